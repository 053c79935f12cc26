import { execFileSync } from 'node:child_process';
import { UserError } from '@lw/core';

/**
 * GPUs as resources of the local executor. A task whose stage says `resources: { gpus: N }` (the same
 * key the Slurm executor turns into `--gres=gpu:N`) runs only once N GPUs of this machine each have a
 * free slot, at most `perGpu` tasks on one GPU at a time, and is pinned to them: its child process gets
 * LW_TASK_GPUS (the task runner gives it to the stage as `ctx.gpus`) and CUDA_VISIBLE_DEVICES naming
 * them, and a stage on a GPU backend records the GPU it ran on.
 * Tasks without `gpus` are CPU tasks and keep using `--jobs` (the cores); GPU tasks do not take those.
 */

/** The GPU count of a `resources.gpus` value: `1`, `"2"`, or Slurm's typed form `"a100:2"`; 0 when absent. */
export function gpuCount(gpus: unknown): number {
  if (gpus === undefined || gpus === null) return 0;
  const text = String(gpus).trim();
  const m = /^(?:[A-Za-z0-9_.-]+:)?(\d+)$/.exec(text);
  if (!m) throw new UserError(`resources.gpus ${JSON.stringify(gpus)} is not a GPU count`, 'write a number (gpus: 1) or Slurm\'s type:count ("a100:2")');
  return Number(m[1]);
}

/**
 * This machine's GPUs, by the ids the pin uses: LW_GPUS (a count, "4", or a list of ids, "0,2"), else one
 * id per line of `nvidia-smi -L`, else none. `probe` is for tests (fake adapters).
 */
export function detectGpus(env: NodeJS.ProcessEnv = process.env, probe: () => string = nvidiaSmiList): string[] {
  const given = env.LW_GPUS?.trim();
  if (given !== undefined && given !== '') {
    if (/^\d+$/.test(given)) return Array.from({ length: Number(given) }, (_, i) => String(i));
    const ids = given.split(',').map((s) => s.trim()).filter(Boolean);
    if (ids.some((id) => !/^[A-Za-z0-9_-]+$/.test(id))) throw new UserError(`LW_GPUS=${given} is not a GPU count or a list of ids`, 'e.g. LW_GPUS=4 or LW_GPUS=0,2');
    return ids;
  }
  let listing = '';
  try { listing = probe(); } catch { return []; }
  return listing.split('\n').filter((l) => /^GPU \d+:/.test(l)).map((l) => /^GPU (\d+):/.exec(l)![1]);
}

function nvidiaSmiList(): string {
  return execFileSync('nvidia-smi', ['-L'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
}

/** Free slots per GPU: `acquire(n)` takes one slot on each of n GPUs, least loaded first; `release` gives them back. */
export class GpuSlots {
  private readonly used = new Map<string, number>();

  constructor(readonly devices: string[], readonly perGpu: number) {
    if (!Number.isInteger(perGpu) || perGpu < 1) throw new UserError(`tasks per GPU must be a positive integer, got ${perGpu}`);
    for (const d of devices) this.used.set(d, 0);
  }

  /** Why a task needing `n` GPUs can never run here, or undefined when it can. */
  unsatisfiable(n: number): string | undefined {
    if (n <= this.devices.length) return undefined;
    return this.devices.length === 0
      ? `needs ${n} GPU${n > 1 ? 's' : ''} (resources.gpus) and this machine has none (no nvidia-smi); LW_GPUS=${n} runs it here anyway, on the backend the task picks`
      : `needs ${n} GPUs (resources.gpus) and this machine has ${this.devices.length}`;
  }

  /** The GPUs of a task needing `n`, one slot taken on each; undefined while fewer than n have a free slot. */
  acquire(n: number): string[] | undefined {
    const free = this.devices.filter((d) => this.used.get(d)! < this.perGpu);
    if (free.length < n) return undefined;
    // Least loaded first, then in device order: tasks spread over the GPUs before doubling up.
    const chosen = free.sort((a, b) => this.used.get(a)! - this.used.get(b)! || this.devices.indexOf(a) - this.devices.indexOf(b)).slice(0, n);
    for (const d of chosen) this.used.set(d, this.used.get(d)! + 1);
    return chosen.sort((a, b) => this.devices.indexOf(a) - this.devices.indexOf(b));
  }

  release(ids: string[]): void {
    for (const d of ids) this.used.set(d, Math.max(0, (this.used.get(d) ?? 0) - 1));
  }

  /** Tasks running on each GPU now. */
  load(): Record<string, number> {
    return Object.fromEntries(this.used);
  }
}
