import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cache, LocalExecutor, loadPlan, loadRegistry, writeSpec, type ExecEvent, type ExecTask } from '@lw/pipeline';
import { gpuCount } from './gpu-slots.js';
import { pluginProject } from '../testing/plugin-project.js';

/**
 * GPUs as resources of the local executor, on CPU with fake adapters (device ids only): a task whose
 * stage has `resources: { gpus: N }` runs pinned to N GPUs (ctx.gpus, and CUDA_VISIBLE_DEVICES in its process),
 * at most perGpu tasks per GPU at once; CPU tasks keep the `jobs` limit; a task needing more GPUs than
 * the machine has fails with the reason.
 */
const stageModule = `import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
export const stages = [{
  id: 'prog/hold', description: 'records its GPU pin and when it ran', packageName: '@lwtest/prog', inputs: {},
  params: z.strictObject({ id: z.string(), ms: z.number() }),
  async run(ctx) {
    const start = Date.now();
    await new Promise((r) => setTimeout(r, ctx.params.ms));
    writeFileSync(join(ctx.outDir, 'run.json'), JSON.stringify({ gpu: ctx.gpus.join(',') || null, cuda: process.env.CUDA_VISIBLE_DEVICES ?? null, start, end: Date.now() }));
    return {};
  },
}];
`;

const saved = process.env.LW_STAGES;
afterEach(() => {
  if (saved === undefined) delete process.env.LW_STAGES;
  else process.env.LW_STAGES = saved;
});

async function prepare(stages: string) {
  const { root, plugin, file } = pluginProject('lw-gpus-', stageModule, 'gpus', stages);
  const cache = new Cache(join(root, 'cache'));
  const { plan } = await loadPlan(file, [], cache, await loadRegistry(undefined, [plugin]));
  for (const t of plan.tasks) writeSpec(cache, plan, t);
  const tasks: ExecTask[] = plan.tasks.map((t) => ({ key: t.key, name: t.name, stageName: t.stageName, stage: t.stage, deps: t.deps }));
  const need = new Map(plan.tasks.map((t) => [t.key, gpuCount((t.resources as { gpus?: unknown } | undefined)?.gpus)]));
  return { cache, tasks, gpusOf: (t: ExecTask) => need.get(t.key) ?? 0 };
}

async function runAll(executor: LocalExecutor): Promise<ExecEvent[]> {
  const events: ExecEvent[] = [];
  for (;;) {
    const { events: batch, settled } = await executor.poll(5000);
    events.push(...batch);
    if (settled) return events;
  }
}

type Ran = { gpu: string | null; cuda: string | null; start: number; end: number };
const ran = (cache: Cache, t: ExecTask): Ran => JSON.parse(readFileSync(join(cache.entryDir(t.key), 'run.json'), 'utf8'));
/** The most runs in progress at one instant (the count is highest just after some run's start). */
function maxOverlap(runs: Ran[]): number {
  let best = 0;
  for (const r of runs) best = Math.max(best, runs.filter((o) => o.start <= r.start && r.start < o.end).length);
  return best;
}

describe('local executor: GPUs as resources', () => {
  it('pins each GPU task to one of 2 fake GPUs, at most 2 per GPU, while a CPU task runs beside them', async () => {
    const gpuTasks = Array.from({ length: 6 }, (_, i) => `  g${i}: { uses: prog/hold, params: { id: g${i}, ms: 600 }, resources: { gpus: 1 } }`);
    const { cache, tasks, gpusOf } = await prepare([...gpuTasks, '  cpu: { uses: prog/hold, params: { id: cpu, ms: 600 } }'].join('\n'));
    const executor = new LocalExecutor({ cache, jobs: 1, gpus: { devices: ['0', '1'], perGpu: 2 }, gpusOf });
    await executor.submit(tasks);
    const events = await runAll(executor);
    expect(events.filter((e) => e.type === 'succeeded')).toHaveLength(7);
    const runs = new Map(tasks.map((t) => [t.name, ran(cache, t)]));
    const gpu = tasks.filter((t) => t.name !== 'cpu').map((t) => runs.get(t.name)!);
    for (const r of gpu) {
      expect(['0', '1']).toContain(r.gpu);
      expect(r.cuda).toBe(r.gpu);
    }
    expect(runs.get('cpu')!.gpu).toBeNull();
    // every "started" event names the pin of the process that ran it
    for (const t of tasks.filter((x) => x.name !== 'cpu')) {
      const started = events.find((e) => e.type === 'started' && e.key === t.key) as { where?: string };
      expect(started.where).toMatch(new RegExp(` gpu ${runs.get(t.name)!.gpu}$`));
    }
    for (const id of ['0', '1']) expect(maxOverlap(gpu.filter((r) => r.gpu === id))).toBeLessThanOrEqual(2);
    expect(gpu.filter((r) => r.gpu === '0').length + gpu.filter((r) => r.gpu === '1').length).toBe(6);
  }, 60_000);

  it('one slot on one GPU: GPU tasks run one after another', async () => {
    const { cache, tasks, gpusOf } = await prepare(Array.from({ length: 3 }, (_, i) => `  g${i}: { uses: prog/hold, params: { id: g${i}, ms: 200 }, resources: { gpus: "h200:1" } }`).join('\n'));
    const executor = new LocalExecutor({ cache, jobs: 4, gpus: { devices: ['0'], perGpu: 1 }, gpusOf });
    await executor.submit(tasks);
    await runAll(executor);
    expect(maxOverlap(tasks.map((t) => ran(cache, t)))).toBe(1);
  }, 60_000);

  it('a task needing more GPUs than the machine has fails with the reason; the others run', async () => {
    const { cache, tasks, gpusOf } = await prepare(['  two: { uses: prog/hold, params: { id: two, ms: 10 }, resources: { gpus: 2 } }', '  one: { uses: prog/hold, params: { id: one, ms: 10 }, resources: { gpus: 1 } }'].join('\n'));
    const executor = new LocalExecutor({ cache, jobs: 1, gpus: { devices: ['0'], perGpu: 1 }, gpusOf });
    await executor.submit(tasks);
    const events = await runAll(executor);
    const two = tasks.find((t) => t.name === 'two')!, one = tasks.find((t) => t.name === 'one')!;
    expect(events.find((e) => e.key === two.key && e.type === 'failed')).toMatchObject({ reason: expect.stringMatching(/needs 2 GPUs .* has 1/) });
    expect(events.find((e) => e.key === one.key && e.type === 'succeeded')).toBeDefined();
  }, 60_000);
});
