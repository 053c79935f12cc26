import type { ExecutorFactory } from './executor.js';
import { detectGpus, gpuCount } from './gpu-slots.js';
import { LocalExecutor, type LocalOptions } from './local.js';
import type { Plan } from '../plan/plan.js';
import { slurmExecutorFactory } from './slurm/factory.js';

/**
 * Executors by name, for `lw run --executor NAME` (default: the pipeline file's `executor.type`,
 * else `local`). A factory gets the plan (whose `executor` block carries file settings) and the
 * CLI's options. The Slurm executor registers itself here as `slurm`.
 */
export const executors = new Map<string, ExecutorFactory>([
  ['local', (plan, opts) => new LocalExecutor({ cache: opts.cache, jobs: opts.jobs, ...localGpus(plan) })],
  ['slurm', slurmExecutorFactory],
]);

/** The executor a run uses: `--executor`, else the file's `executor.type`, else `local`. */
export function executorName(plan: Plan, flag?: string): string {
  return flag ?? (typeof plan.executor?.type === 'string' ? plan.executor.type : 'local');
}

/**
 * GPUs for the local executor: each task's `resources.gpus` (as on Slurm), this machine's GPUs
 * (detectGpus), and tasks per GPU from LW_TASKS_PER_GPU, else `executor.tasksPerGpu` in the file, else
 * DEFAULT_TASKS_PER_GPU. Planned before any task runs, so a bad `gpus` value fails the run up front.
 */
export const DEFAULT_TASKS_PER_GPU = 1;

function localGpus(plan: Plan): Pick<LocalOptions, 'gpus' | 'gpusOf'> {
  const need = new Map(plan.tasks.map((t) => [t.key, gpuCount((t.resources as { gpus?: unknown } | undefined)?.gpus)]));
  if (![...need.values()].some((n) => n > 0)) return {};
  const fromFile = (plan.executor as { tasksPerGpu?: unknown } | undefined)?.tasksPerGpu;
  const perGpu = Number(process.env.LW_TASKS_PER_GPU || (fromFile ?? DEFAULT_TASKS_PER_GPU));
  return { gpus: { devices: detectGpus(), perGpu }, gpusOf: (t) => need.get(t.key) ?? 0 };
}
