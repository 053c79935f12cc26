import type { ExecTask } from '../executor.js';

/**
 * Which sbatch calls a batch of tasks becomes: pure, so `--dry-run` and tests see exactly what
 * `submit` will do. Tasks of one pipeline stage whose dependencies are the same jobs become one job
 * array (a job array has one dependency list for all its tasks); any other task is its own job.
 */

/** A dependency: a job planned in this batch (`task` picks one array task) or one already submitted. */
export type JobRef = { planned: number; task?: number } | { submitted: string };

export interface PlannedJob {
  /** Position in the plan; later jobs refer to earlier ones by it. */
  index: number;
  stageName: string;
  /** Task keys in array-index order (one key for a plain job). */
  tasks: ExecTask[];
  array: boolean;
  afterOk: JobRef[];
}

/** What the executor already knows about a dependency key from earlier submits. */
export type KnownDep = { jobId: string } | { done: 'succeeded' } | { done: 'failed'; reason: string };

export interface JobPlan {
  jobs: PlannedJob[];
  /** Tasks that cannot run because a dependency already failed, with the failed dependency's key. */
  skipped: { task: ExecTask; because: string }[];
}

export function planJobs(
  tasks: readonly ExecTask[],
  opts: { arrays: boolean; known: (key: string) => KnownDep | undefined },
): JobPlan {
  const jobs: PlannedJob[] = [];
  const skipped: JobPlan['skipped'] = [];
  // key -> where it will run: job index, and array position for array jobs
  const placed = new Map<string, { job: number; task?: number }>();
  const failed = new Set<string>();
  // Two conditions that resolve to the same params share one key: that work runs once.
  const pending = tasks.filter((t, i) => tasks.findIndex((u) => u.key === t.key) === i);

  const depState = (key: string): 'ready' | 'failed' | 'later' => {
    if (placed.has(key)) return 'ready';
    if (failed.has(key)) return 'failed';
    const known = opts.known(key);
    if (!known) return 'later';
    return 'done' in known && known.done === 'failed' ? 'failed' : 'ready';
  };

  while (pending.length) {
    const first = pending[0];
    // The first pending task's stage: every task of it whose dependencies are placed goes now.
    const ready: ExecTask[] = [];
    for (const t of pending) {
      if (t.stageName !== first.stageName) continue;
      const states = t.deps.map(depState);
      if (states.includes('failed')) {
        skipped.push({ task: t, because: t.deps[states.indexOf('failed')] });
        failed.add(t.key);
      } else if (states.every((s) => s === 'ready')) ready.push(t);
    }
    const taken = new Set([...ready, ...skipped.map((s) => s.task)]);
    if (!taken.has(first)) {
      throw new Error(`slurm plan: task ${first.name} depends on a task that was not submitted before it`);
    }
    for (let i = pending.length - 1; i >= 0; i--) if (taken.has(pending[i])) pending.splice(i, 1);

    // Group the ready tasks by their dependency list, written as refs.
    const groups = new Map<string, { refs: JobRef[]; tasks: ExecTask[] }>();
    for (const t of ready) {
      const refs = dependencyRefs(t, placed, jobs, opts.known);
      const sig = JSON.stringify(refs);
      const group = groups.get(sig) ?? { refs, tasks: [] };
      group.tasks.push(t);
      groups.set(sig, group);
    }
    for (const { refs, tasks: members } of groups.values()) {
      const asArray = opts.arrays && members.length > 1;
      const chunks = asArray ? [members] : members.map((m) => [m]);
      for (const chunk of chunks) {
        const index = jobs.length;
        jobs.push({ index, stageName: first.stageName, tasks: chunk, array: asArray, afterOk: refs });
        chunk.forEach((t, i) => placed.set(t.key, asArray ? { job: index, task: i } : { job: index }));
      }
    }
  }
  return { jobs, skipped };
}

/** The jobs a task waits for, as refs; all tasks of an array collapse into the array itself. */
function dependencyRefs(
  task: ExecTask,
  placed: Map<string, { job: number; task?: number }>,
  jobs: PlannedJob[],
  known: (key: string) => KnownDep | undefined,
): JobRef[] {
  const refs: JobRef[] = [];
  const arrayTasks = new Map<number, Set<number>>();
  for (const dep of task.deps) {
    const here = placed.get(dep);
    if (here && here.task !== undefined) {
      const set = arrayTasks.get(here.job) ?? new Set<number>();
      set.add(here.task);
      arrayTasks.set(here.job, set);
    } else if (here) refs.push({ planned: here.job });
    else {
      const k = known(dep);
      if (k && 'jobId' in k) refs.push({ submitted: k.jobId });
      // A dependency that already succeeded needs no ordering.
    }
  }
  for (const [job, members] of arrayTasks) {
    if (members.size === jobs[job].tasks.length) refs.push({ planned: job });
    else for (const t of [...members].sort((a, b) => a - b)) refs.push({ planned: job, task: t });
  }
  const seen = new Set<string>();
  return refs
    .filter((r) => {
      const id = JSON.stringify(r);
      return seen.has(id) ? false : (seen.add(id), true);
    })
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}
