import type { Cache } from './cache.js';
import type { Executor } from './executor.js';
import { LocalExecutor } from './local.js';
import type { Plan } from './plan.js';
import { slurmExecutorFactory } from './slurm/factory.js';

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

export const executors = new Map<string, ExecutorFactory>([
  ['local', (_plan, opts) => new LocalExecutor({ cache: opts.cache, jobs: opts.jobs })],
  ['slurm', slurmExecutorFactory],
]);

/** The executor a run uses: `--executor`, else the file's `executor.type`, else `local`. */
export function executorName(plan: Plan, flag?: string): string {
  return flag ?? (typeof plan.executor?.type === 'string' ? plan.executor.type : 'local');
}
