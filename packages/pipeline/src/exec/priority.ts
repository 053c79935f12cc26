import type { PlannedTask } from '../plan/plan.js';

/**
 * Start order for the local executor when more tasks are ready than slots: the longest estimated
 * work first, counting the task itself and its longest chain of dependents among the tasks to run
 * (critical path first; among independent leaves, longest first). With jobs tasks at a time on a
 * throughput-bound run, this shortens the tail where one slot idles behind the last long task.
 *
 * A task's own work is what its stage estimates (`StageDef.work`, planned as `task.work`: a
 * training stage counts the epochs past the checkpoint it resumes from). Only the order depends
 * on it, never what runs.
 */

/** key -> own estimated work + the largest priority among its dependents in `tasks`. */
export function criticalPathPriorities(tasks: PlannedTask[]): Map<string, number> {
  const keys = new Set(tasks.map((t) => t.key));
  const dependents = new Map<string, string[]>(tasks.map((t) => [t.key, []]));
  for (const t of tasks) for (const d of t.deps) if (keys.has(d)) dependents.get(d)!.push(t.key);
  const priority = new Map<string, number>();
  // `tasks` is in dependency order, so walking it backwards meets every dependent first.
  for (const t of [...tasks].reverse()) {
    const downstream = Math.max(0, ...dependents.get(t.key)!.map((k) => priority.get(k)!));
    priority.set(t.key, t.work + downstream);
  }
  return priority;
}
