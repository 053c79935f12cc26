import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Cache } from './cache.js';
import type { ExecEvent, ExecPoll, ExecTask, Executor } from './executor.js';
import type { TaskMessage } from './task-messages.js';

/**
 * The local executor: each task in its own child process (`task-main.js`), at most `jobs` at a
 * time, started as soon as its dependencies have succeeded. A failed task fails only itself; its
 * dependents are reported `skipped` and independent tasks go on. Output goes to the task's log.
 */
export interface LocalOptions {
  cache: Cache;
  /** Concurrency; default: the number of CPU cores. */
  jobs?: number;
  /** Seconds between SIGTERM and SIGKILL on cancel. */
  killGraceMs?: number;
}

const taskMain = fileURLToPath(new URL('./task-main.js', import.meta.url));

export class LocalExecutor implements Executor {
  readonly name = 'local';
  private readonly jobs: number;
  private readonly pending = new Map<string, ExecTask>();
  private readonly running = new Map<string, ChildProcess>();
  private readonly outcome = new Map<string, boolean>();
  private events: ExecEvent[] = [];
  private wake: (() => void) | undefined;
  private cancelled: string | undefined;

  constructor(private readonly opts: LocalOptions) {
    this.jobs = Math.max(1, opts.jobs ?? availableParallelism());
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
    for (const child of this.running.values()) {
      child.kill('SIGTERM');
      setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), this.opts.killGraceMs ?? 10_000).unref();
    }
    this.notify();
  }

  private settled(): boolean {
    return this.pending.size === 0 && this.running.size === 0;
  }

  private emit(e: ExecEvent): void {
    this.events.push(e);
    this.notify();
  }

  private notify(): void {
    this.wake?.();
  }

  /** Starts ready tasks in submission order; skips those with a failed dependency. */
  private schedule(): void {
    if (this.cancelled) return;
    let changed = true;
    while (changed) {
      changed = false;
      for (const [key, task] of this.pending) {
        const failedDep = task.deps.find((d) => this.outcome.get(d) === false);
        if (failedDep) {
          this.pending.delete(key);
          this.outcome.set(key, false);
          this.emit({ type: 'skipped', key, reason: `dependency ${failedDep.slice(0, 12)} did not succeed` });
          changed = true;
          continue;
        }
        const ready = task.deps.every((d) => this.outcome.get(d) === true || (!this.pending.has(d) && !this.running.has(d) && !this.outcome.has(d)));
        if (ready && this.running.size < this.jobs) {
          this.pending.delete(key);
          this.start(task);
        }
      }
    }
  }

  private start(task: ExecTask): void {
    const { cache } = this.opts;
    const log = openSync(cache.logPath(task.key), 'w');
    const child = fork(taskMain, [task.key, cache.dir], { stdio: ['ignore', log, log, 'ipc'] });
    closeSync(log);
    this.running.set(task.key, child);
    let final: TaskMessage | undefined;
    child.on('message', (m: TaskMessage) => {
      if (m.type === 'started') this.emit({ type: 'started', key: task.key, where: `pid ${child.pid}` });
      else if (m.type === 'progress') this.emit({ type: 'progress', key: task.key, done: m.done, total: m.total, note: m.note });
      else final = m;
    });
    child.on('exit', (code, signal) => {
      this.running.delete(task.key);
      if (code !== 0 && child.pid !== undefined) cache.cleanupAfter(task.key, child.pid);
      const ok = code === 0 && final?.type === 'done';
      this.outcome.set(task.key, ok);
      if (ok) this.emit({ type: 'succeeded', key: task.key, cachedByOther: final?.type === 'done' && final.outcome !== 'ran' });
      else if (this.cancelled) this.emit({ type: 'cancelled', key: task.key, reason: this.cancelled });
      else {
        const reason = final?.type === 'failed' ? final.reason : signal ? `killed by ${signal}` : `exited with status ${code}`;
        this.emit({ type: 'failed', key: task.key, reason, logPath: cache.logPath(task.key) });
      }
      this.schedule();
    });
  }
}
