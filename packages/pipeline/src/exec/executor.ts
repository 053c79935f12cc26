import { z } from 'zod';
import type { Cache } from '../cache/cache.js';
import type { Plan } from '../plan/plan.js';

/**
 * The executor contract shared by the local executor (`local.ts`) and the Slurm executor
 * (`slurm/`). The planner decides WHAT runs; an executor only decides WHERE and WHEN.
 *
 * Division of labour:
 * - Before calling an executor, the runner writes one task spec per task to run into the cache
 *   (`<cache>/specs/<key>.json`, format `TaskSpec` below) and drops tasks that are already cached.
 * - An executor runs a task by running, in any process on any machine that sees the cache,
 *   `node <abs>/packages/pipeline/bin/lw.js task <KEY> --cache <abs cache dir>`
 *   (`taskCommand()` below builds that argv). That command takes the per-key lock, runs the stage
 *   in a fresh temp dir, and publishes the entry atomically (or finds it already published by a
 *   concurrent run). Exit status 0 means the entry `<cache>/<key[0:2]>/<key>/` now exists;
 *   anything else is a failure, with the task's output in `<cache>/logs/<key>.log`.
 * - Executors therefore never touch entries or locks, and a task run twice is harmless.
 * - Progress: when started with an IPC channel (local executor: `fork`), the task runner sends
 *   `TaskMessage`s (`task-messages.ts`); in any case it rewrites `<cache>/progress/<key>.json`
 *   (`{ done, total, note?, time }`, at most once a second) so a remote executor can read epochs.
 *
 * Lifecycle: `submit(tasks)` once (or several times) with tasks in topological order, then call
 * `poll()` until it returns `{ settled: true }`; `cancel()` at any time (Ctrl-C, --fail-fast).
 * `submit` may start everything at once (Slurm: the whole DAG up front with
 * `--dependency=afterok:...` and `--kill-on-invalid-dep=yes`) or keep tasks until their
 * dependencies succeed (local). Either way, a task whose dependency failed must be reported as
 * `skipped` (never run), and independent tasks go on.
 */
export interface Executor {
  /** `local`, `slurm`: shown in progress lines and recorded in the run's state file. */
  readonly name: string;
  /** Hands tasks over. Every dependency key of a task is either an earlier task of this or a
   *  previous submit, or already in the cache (then it is simply not listed in `deps`). */
  submit(tasks: ExecTask[]): Promise<void>;
  /**
   * Waits (up to `waitMs`, default: until something happens) for state changes and returns them.
   * `settled` is true once every submitted task has a final event (`succeeded`, `failed`,
   * `skipped`, `cancelled`); after that, poll returns `{ events: [], settled: true }` at once.
   */
  poll(waitMs?: number): Promise<ExecPoll>;
  /** Stops everything still pending or running; running tasks are killed and leave no entry
   *  (their temp dirs are removed by the task runner or by the next run). Idempotent. Their final
   *  events (`cancelled`) arrive through `poll`. */
  cancel(reason: string): Promise<void>;
  /**
   * `lw run --dry-run`: what `submit` would do with `tasks` (every selected task in plan order;
   * `cached` holds the keys already in the cache), one line each for the user. Submits nothing.
   */
  dryRun(tasks: ExecTask[], cached: ReadonlySet<string>): string[];
}

/** What `lw run` gives an executor's factory besides the plan (whose `executor` block carries file settings). */
export interface ExecutorOptions {
  cache: Cache;
  jobs?: number;
}

export type ExecutorFactory = (plan: Plan, opts: ExecutorOptions) => Executor;

/** One unit of work handed to an executor. Everything else is in the spec file. */
export interface ExecTask {
  /** Cache key; the spec is at `<cache>/specs/<key>.json`. */
  key: string;
  /** Human-readable, unique in the run: `sweep[type=image_noise,start=5]`. */
  name: string;
  /** The pipeline stage it comes from (`sweep`): tasks of one matrix stage share it, so Slurm
   *  may group them into one job array. */
  stageName: string;
  /** Stage id (`train/behavior`), e.g. to choose resources. */
  stage: string;
  /** Keys of submitted tasks that must succeed first (already cached inputs are not listed). */
  deps: string[];
  /** Of the ready tasks, the local executor starts those with the highest priority first (ties and
   *  unset: submission order). The runner sets the estimated critical path (priority.ts). */
  priority?: number;
}

export type ExecEvent =
  | { type: 'started'; key: string; where?: string }
  /** Units of work done in a running task (epochs), from `ctx.progress`. */
  | { type: 'progress'; key: string; done: number; total: number; note?: string }
  /** The entry is published (by this task, or by a concurrent run that held the lock). */
  | { type: 'succeeded'; key: string; cachedByOther?: boolean }
  | { type: 'failed'; key: string; reason: string; logPath?: string }
  /** Never ran because a dependency failed or was cancelled. */
  | { type: 'skipped'; key: string; reason: string }
  | { type: 'cancelled'; key: string; reason: string };

export interface ExecPoll {
  events: ExecEvent[];
  settled: boolean;
}

/**
 * The argv that runs one task from its key: `[node, lw.js, 'task', key, '--cache', cacheDir]`.
 * Absolute paths, so it works from any working directory (and in a Slurm job script).
 */
export function taskCommand(key: string, cacheDir: string, lwBin: string = defaultLwBin()): string[] {
  return [process.execPath, lwBin, 'task', key, '--cache', cacheDir];
}

/** Absolute path of `packages/pipeline/bin/lw.js` (this file lives in `packages/pipeline/dist/exec/`). */
export function defaultLwBin(): string {
  return new URL('../../bin/lw.js', import.meta.url).pathname;
}

/** A reference to an upstream task's result inside a spec; its directory is derived from the key
 *  and the cache dir at run time, so a cache on a shared file system may be mounted anywhere. */
export const InputRefSchema = z.object({
  key: z.string(),
  stage: z.string(),
  name: z.string(),
  params: z.record(z.string(), z.unknown()),
  condition: z.record(z.string(), z.unknown()),
  /** Set for a checkpoint reference `baseline@epoch(4)`. */
  epoch: z.number().int().nonnegative().optional(),
});
export type InputRef = z.infer<typeof InputRefSchema>;

/**
 * The task spec, `<cache>/specs/<key>.json`, written by the runner before submitting and read by
 * `lw task KEY`. Self-contained: with it and the cache, a task runs anywhere.
 */
export const TaskSpecSchema = z.object({
  /** Format version of this file. */
  version: z.literal(1),
  key: z.string().regex(/^[0-9a-f]{64}$/),
  /** `sweep[type=image_noise,start=5]` */
  name: z.string(),
  /** Pipeline stage name (`sweep`) and the pipeline's name. */
  stageName: z.string(),
  pipeline: z.string(),
  /** Registered stage id (`train/behavior`, `exec`). */
  stage: z.string(),
  /** Fully resolved params, defaults applied (the stage's zod schema output). */
  params: z.record(z.string(), z.unknown()),
  /** The matrix condition (empty for a plain stage). */
  condition: z.record(z.string(), z.unknown()),
  /** Named inputs: one result, or a list (a matrix stage or `[a, b]`). */
  inputs: z.record(z.string(), z.union([InputRefSchema, z.array(InputRefSchema)])),
  /** Exactly the values hashed into `key` (also written as the entry's `task.json`). */
  keyInputs: z.record(z.string(), z.unknown()),
  /** Absolute directory of the pipeline file; relative paths in params (exec `deps`) resolve
   *  against it, and `exec` commands see it as `$LW_PIPELINE_DIR`. Not part of the key. */
  pipelineDir: z.string(),
});
export type TaskSpec = z.infer<typeof TaskSpecSchema>;
