import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Cache } from '../cache/cache.js';
import type { ExecEvent, ExecPoll, ExecTask, Executor } from './executor.js';
import { GpuSlots } from './gpu-slots.js';
import type { TaskMessage, WorkerMessage } from './task-messages.js';

/**
 * The local executor: tasks run in child processes (`task-main.js`), at most `jobs` at a time,
 * each started as soon as its dependencies have succeeded. A child that finished a task
 * successfully takes the next one (Node's start and the stage packages' imports are paid once per
 * child, not once per task); a failed or crashed task fails only itself, and its child is not
 * reused. Dependents of a failed task are reported `skipped`; independent tasks go on. Each task's
 * output (its child's stdout and stderr while it runs it) goes to the task's log.
 */
export interface LocalOptions {
  cache: Cache;
  /** Concurrency; default: the number of CPU cores. */
  jobs?: number;
  /** Seconds between SIGTERM and SIGKILL on cancel. */
  killGraceMs?: number;
  /** This machine's GPUs (ids for ctx.gpus / CUDA_VISIBLE_DEVICES; gpu-slots.ts detectGpus) and tasks per GPU. */
  gpus?: { devices: string[]; perGpu: number };
  /** GPUs a task needs (its stage's `resources.gpus`); 0: a CPU task, limited by `jobs`. */
  gpusOf?: (task: ExecTask) => number;
}

const taskMain = fileURLToPath(new URL('./task-main.js', import.meta.url));

/** A child process and the task it runs now (none: idle, waiting for the next). */
interface Worker {
  child: ChildProcess;
  task?: ExecTask;
  /** The log file of its current (or, until the next starts, its last) task. */
  log?: number;
  /** Why its task failed, as the child reported it before exiting. */
  failure?: string;
  /** The GPUs its process is pinned to (fixed at fork: a backend binds its adapter once), '' for none. */
  pin: string;
  /** The GPU slots its current task holds. */
  slots?: string[];
}

export class LocalExecutor implements Executor {
  readonly name = 'local';
  private readonly jobs: number;
  private readonly pending = new Map<string, ExecTask>();
  private readonly workers = new Set<Worker>();
  private readonly outcome = new Map<string, boolean>();
  private events: ExecEvent[] = [];
  private wake: (() => void) | undefined;
  private cancelled: string | undefined;

  private readonly slots: GpuSlots;

  constructor(private readonly opts: LocalOptions) {
    this.jobs = Math.max(1, opts.jobs ?? availableParallelism());
    this.slots = new GpuSlots(opts.gpus?.devices ?? [], opts.gpus?.perGpu ?? 1);
  }

  private gpusOf(task: ExecTask): number {
    return this.opts.gpusOf?.(task) ?? 0;
  }

  async submit(tasks: ExecTask[]): Promise<void> {
    for (const t of tasks) this.pending.set(t.key, t);
    this.schedule();
  }

  async poll(waitMs?: number): Promise<ExecPoll> {
    if (this.events.length === 0 && !this.settled()) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        if (waitMs !== undefined) setTimeout(resolve, waitMs).unref();
      });
      this.wake = undefined;
    }
    const events = this.events;
    this.events = [];
    return { events, settled: this.settled() && this.events.length === 0 };
  }

  async cancel(reason: string): Promise<void> {
    if (this.cancelled) return;
    this.cancelled = reason;
    for (const key of this.pending.keys()) this.emit({ type: 'cancelled', key, reason });
    this.pending.clear();
    for (const { child } of this.workers) {
      child.kill('SIGTERM');
      setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), this.opts.killGraceMs ?? 10_000).unref();
    }
    this.notify();
  }

  /** Every task with whether it is cached or would run, in plan order. */
  dryRun(tasks: ExecTask[], cached: ReadonlySet<string>): string[] {
    return tasks.map((t) => `${cached.has(t.key) ? 'cached' : 'run   '} ${t.name}  ${t.key.slice(0, 12)}`);
  }

  private busy(): Worker[] {
    return [...this.workers].filter((w) => w.task);
  }

  private settled(): boolean {
    return this.pending.size === 0 && this.busy().length === 0;
  }

  private emit(e: ExecEvent): void {
    this.events.push(e);
    this.notify();
  }

  private notify(): void {
    this.wake?.();
  }

  /** Starts ready tasks, highest priority first (then in submission order); skips those with a failed
   *  dependency. Idle children are let go once nothing is left to run (their IPC channels would keep
   *  `lw run` alive). */
  private schedule(): void {
    if (this.cancelled) return;
    let changed = true;
    while (changed) {
      changed = false;
      const byPriority = [...this.pending].sort(([, a], [, b]) => (b.priority ?? 0) - (a.priority ?? 0));
      for (const [key, task] of byPriority) {
        const failedDep = task.deps.find((d) => this.outcome.get(d) === false);
        if (failedDep) {
          this.pending.delete(key);
          this.outcome.set(key, false);
          this.emit({ type: 'skipped', key, reason: `dependency ${failedDep.slice(0, 12)} did not succeed` });
          changed = true;
          continue;
        }
        const ready = task.deps.every((d) => this.outcome.get(d) === true || (!this.pending.has(d) && !this.isRunning(d) && !this.outcome.has(d)));
        if (!ready) continue;
        const need = this.gpusOf(task);
        if (need === 0) {
          if (this.busy().filter((w) => !w.slots).length < this.jobs) {
            this.pending.delete(key);
            this.start(task);
          }
          continue;
        }
        const never = this.slots.unsatisfiable(need);
        if (never) {
          this.pending.delete(key);
          this.outcome.set(key, false);
          this.emit({ type: 'failed', key, reason: never });
          changed = true;
          continue;
        }
        const gpus = this.slots.acquire(need);
        if (gpus) {
          this.pending.delete(key);
          this.start(task, gpus);
        }
      }
    }
    if (this.pending.size === 0) for (const w of this.workers) if (!w.task) this.retire(w);
  }

  private isRunning(key: string): boolean {
    return this.busy().some((w) => w.task!.key === key);
  }

  /** Gives `task` to an idle child pinned to the same GPUs (none for a CPU task), or forks one for it. */
  private start(task: ExecTask, gpus?: string[]): void {
    const { cache } = this.opts;
    const pin = gpus?.join(',') ?? '';
    const idle = [...this.workers].find((w) => !w.task && w.pin === pin);
    // Idle children pinned elsewhere would only wait: let one go for each new child beyond the limit.
    if (!idle && this.workers.size >= this.jobs + this.slots.devices.length * this.slots.perGpu) {
      const spare = [...this.workers].find((w) => !w.task);
      if (spare) this.retire(spare);
    }
    const worker = idle ?? this.fork(task, pin);
    if (worker.log !== undefined) closeSync(worker.log);
    worker.log = openSync(cache.logPath(task.key), 'w');
    worker.task = task;
    worker.slots = gpus;
    worker.failure = undefined;
    if (idle) idle.child.send({ type: 'run', key: task.key } satisfies WorkerMessage);
  }

  private fork(first: ExecTask, pin: string): Worker {
    // A 64 MB young generation: tfjs allocates small objects per op, and with V8's default the
    // scavenges took ~6% of a toy CLIP-HBA task (~2.5% with this; profiled, bench/RESULTS.md `sweep`).
    const execArgv = [...process.execArgv, '--max-semi-space-size=64'];
    const child = fork(taskMain, [first.key, this.opts.cache.dir], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: this.childEnv(pin), execArgv });
    const worker: Worker = { child, pin };
    this.workers.add(worker);
    const toLog = (chunk: Buffer) => worker.log !== undefined && writeSync(worker.log, chunk);
    child.stdout!.on('data', toLog);
    child.stderr!.on('data', toLog);
    child.on('message', (m: TaskMessage) => this.onMessage(worker, m));
    child.on('exit', (code, signal) => this.onExit(worker, code, signal));
    // After the exit, once its pipes are drained: whatever it wrote last is in the log.
    child.on('close', () => worker.log !== undefined && closeSync(worker.log));
    return worker;
  }

  private onMessage(worker: Worker, m: TaskMessage): void {
    const task = worker.task;
    if (!task) return;
    if (m.type === 'started') this.emit({ type: 'started', key: task.key, where: `pid ${worker.child.pid}${worker.pin ? ` gpu ${worker.pin}` : ''}` });
    else if (m.type === 'progress') this.emit({ type: 'progress', key: task.key, done: m.done, total: m.total, note: m.note });
    else if (m.type === 'done') this.finish(worker, true, m.outcome !== 'ran');
    else worker.failure = m.reason; // the child exits next, and onExit reports the failure
  }

  private onExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    this.workers.delete(worker);
    const task = worker.task;
    if (task) {
      if (worker.child.pid !== undefined) this.opts.cache.cleanupAfter(task.key, worker.child.pid);
      const reason = worker.failure ?? (signal ? `killed by ${signal}` : `exited with status ${code}`);
      this.finish(worker, false, false, reason);
    }
  }

  /** Records a task's outcome. The next task is scheduled on the next turn of the event loop, after
   *  the output this child wrote before reporting (already in its pipes) has gone to this task's log. */
  private finish(worker: Worker, ok: boolean, cachedByOther: boolean, reason = ''): void {
    const task = worker.task!;
    worker.task = undefined;
    if (worker.slots) this.slots.release(worker.slots);
    worker.slots = undefined;
    this.outcome.set(task.key, ok);
    if (ok) this.emit({ type: 'succeeded', key: task.key, cachedByOther });
    else if (this.cancelled) this.emit({ type: 'cancelled', key: task.key, reason: this.cancelled });
    else this.emit({ type: 'failed', key: task.key, reason, logPath: this.opts.cache.logPath(task.key) });
    setImmediate(() => this.schedule());
  }

  /**
   * The children's environment: `jobs` tasks share the cores, so each child's task gets cores / jobs
   * threads (LW_TASK_THREADS, read by the task runner into `ctx.threads`): more spinning threads than
   * free cores are slower than one. A GPU task's process gets its GPUs as LW_TASK_GPUS (`ctx.gpus`)
   * and sees only them through CUDA_VISIBLE_DEVICES (CUDA programs: tfjs-node-gpu, exec stages
   * running PyTorch). What a stage does with its share is the stage's business.
   */
  private childEnv(pin: string): NodeJS.ProcessEnv {
    const threads = Math.max(1, Math.floor(availableParallelism() / this.jobs));
    const env: NodeJS.ProcessEnv = { ...process.env, LW_TASK_THREADS: String(threads) };
    if (pin) Object.assign(env, { LW_TASK_GPUS: pin, CUDA_VISIBLE_DEVICES: pin });
    return env;
  }

  /** Lets an idle child go: it exits when its IPC channel closes. */
  private retire(worker: Worker): void {
    this.workers.delete(worker);
    if (worker.child.connected) worker.child.disconnect();
  }
}
