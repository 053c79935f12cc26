import type { ExecutorFactory } from '../executor.js';
import type { Plan } from '../../plan/plan.js';
import { readSource } from '../../plan/source.js';
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
