import type { Cache } from './cache.js';
import type { Executor } from './executor.js';
import { LocalExecutor } from './local.js';
import type { Plan } from './plan.js';

/**
 * Executors by name, for `lw run --executor NAME` (default: the pipeline file's `executor.type`,
 * else `local`). A factory gets the plan (whose `executor` block carries file settings) and the
 * CLI's options. The Slurm executor registers itself here as `slurm`.
 */
export interface ExecutorOptions {
  cache: Cache;
  jobs?: number;
  dryRun?: boolean;
}

export type ExecutorFactory = (plan: Plan, opts: ExecutorOptions) => Executor;

export const executors = new Map<string, ExecutorFactory>([['local', (_plan, opts) => new LocalExecutor({ cache: opts.cache, jobs: opts.jobs })]]);
