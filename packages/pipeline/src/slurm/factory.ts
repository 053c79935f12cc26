import type { ExecTask } from '../executor.js';
import type { ExecutorFactory } from '../executors.js';
import type { Plan } from '../plan.js';
import { readSource } from '../source.js';
import type { SlurmExecutorConfig } from './config.js';
import { slurmConfigFromPipeline } from './from-pipeline.js';
import { SlurmExecutor } from './slurm-executor.js';

/**
 * How `lw run` gets a Slurm executor: `executors.set('slurm', slurmExecutorFactory)`.
 * Settings come from the plan (the file's `executor:` block and each stage's `resources:`);
 * positions for error messages from the pipeline file itself.
 */
export const slurmExecutorFactory: ExecutorFactory = (plan, opts) =>
  new SlurmExecutor({
    cacheDir: opts.cache.dir,
    pipeline: plan.name,
    pipelineFile: plan.file,
    config: slurmConfigFromPlan(plan),
    log: (line) => process.stderr.write(`${line}\n`),
  });

export function slurmConfigFromPlan(plan: Plan): SlurmExecutorConfig {
  const stages: Record<string, { resources?: unknown }> = {};
  for (const t of plan.tasks) if (t.resources !== undefined) stages[t.stageName] = { resources: t.resources };
  const at = (path: (string | number)[]) => {
    try {
      return readSource(plan.file).at(path);
    } catch {
      return plan.file;
    }
  };
  return slurmConfigFromPipeline({ data: { executor: plan.executor, stages }, at });
}

/**
 * `lw run FILE --executor slurm --dry-run`: the sbatch commands for the tasks not in the cache,
 * one shell line each (`JOB2=$(sbatch ... --dependency=afterok:$JOB1 ...)`), submitting nothing.
 */
export function slurmDryRun(plan: Plan, opts: { cacheDir: string; has: (key: string) => boolean; tasks?: Plan['tasks'] }): string[] {
  const toRun = (opts.tasks ?? plan.tasks).filter((t) => !opts.has(t.key));
  const running = new Set(toRun.map((t) => t.key));
  const tasks: ExecTask[] = toRun.map((t) => ({
    key: t.key, name: t.name, stageName: t.stageName, stage: t.stage, deps: t.deps.filter((d) => running.has(d)),
  }));
  return SlurmExecutor.dryRun(tasks, {
    cacheDir: opts.cacheDir, pipeline: plan.name, pipelineFile: plan.file, config: slurmConfigFromPlan(plan),
  });
}
