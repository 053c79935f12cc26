import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '@lw/core';
import type { Cache } from './cache.js';
import type { ExecEvent, ExecTask, Executor, TaskSpec } from './executor.js';
import { criticalPathPriorities } from './priority.js';
import { loadPlan } from './load.js';
import { writeStamp } from './noop-stamp.js';
import type { Plan, PlannedTask } from './plan.js';
import type { Registry } from './registry.js';
import { updateResultsIndex } from './results-index.js';
import { RunView, type ViewStream } from './view.js';

/**
 * `lw run`: plan, skip what the cache has, write specs for the rest, hand them to an executor,
 * follow its events until everything settled, then update the results index.
 */
export interface RunOptions {
  file: string;
  cache: Cache;
  sets?: string[];
  only?: string[];
  dryRun?: boolean;
  failFast?: boolean;
  /** Built once the plan is known (the pipeline file's `executor:` block may configure it). */
  executor: (plan: Plan) => Executor;
  /** Progress output (stderr). */
  stream?: ViewStream;
  registry?: Registry;
  /** Aborting cancels the run (Ctrl-C). */
  signal?: AbortSignal;
}

export interface RunSummary {
  tasks: number;
  ran: number;
  cached: number;
  failed: number;
  /** Dry run: how many would run. */
  toRun?: number;
  skipped: number;
  cancelled: boolean;
  resultsDir?: string;
  failures: { name: string; reason: string; logPath?: string }[];
  plan: Plan;
}

export async function runPipeline(opts: RunOptions): Promise<RunSummary> {
  const { cache } = opts;
  const { plan, watched, fileSha } = await loadPlan(opts.file, opts.sets ?? [], opts.cache, opts.registry);
  const tasks = selectTasks(plan, opts.only ?? []);
  const toRun = tasks.filter((t) => !cache.has(t.key));
  const cachedCount = tasks.length - toRun.length;
  const base = { tasks: tasks.length, cached: cachedCount, failures: [], plan, skipped: 0, cancelled: false };
  if (opts.dryRun) return { ...base, ran: 0, failed: 0, toRun: toRun.length };
  if (toRun.length === 0) {
    const resultsDir = updateResultsIndex(resultsRoot(cache), plan, cache);
    if (!opts.only?.length) stamp(opts, plan, watched, fileSha, resultsDir);
    return { ...base, ran: 0, failed: 0, resultsDir };
  }
  cache.sweepTemp();
  for (const t of toRun) writeSpec(cache, plan, t);
  const executor = opts.executor(plan);
  const running = new Set(toRun.map((t) => t.key));
  const priority = criticalPathPriorities(toRun);
  const execTasks: ExecTask[] = toRun.map((t) => ({ key: t.key, name: t.name, stageName: t.stageName, stage: t.stage, deps: t.deps.filter((d) => running.has(d)), priority: priority.get(t.key) }));
  const names = new Map(plan.tasks.map((t) => [t.key, t.name]));
  const view = new RunView(opts.stream ?? process.stderr, names, tasks.length, cachedCount, executor.name);
  const counts = { ran: 0, cachedByOther: 0, failed: 0, skipped: 0 };
  const failures: RunSummary['failures'] = [];
  let cancelled = false;
  const onAbort = () => {
    cancelled = true;
    void executor.cancel('interrupted');
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await executor.submit(execTasks);
    for (;;) {
      const { events, settled } = await executor.poll(1000);
      for (const e of events) {
        view.event(e);
        tally(e, counts, failures, names);
        if (e.type === 'failed' && opts.failFast) void executor.cancel('--fail-fast: another task failed');
      }
      if (settled) break;
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    view.finish();
  }
  const resultsDir = updateResultsIndex(resultsRoot(cache), plan, cache);
  if (!opts.only?.length && !cancelled && plan.tasks.every((t) => cache.has(t.key))) stamp(opts, plan, watched, fileSha, resultsDir);
  return {
    ...base,
    cached: cachedCount + counts.cachedByOther,
    ran: counts.ran,
    failed: counts.failed,
    skipped: counts.skipped,
    failures,
    cancelled,
    resultsDir,
  };
}

/** Records what "everything is cached" depended on, for the no-op fast path of the next run. */
function stamp(opts: RunOptions, plan: Plan, watched: Map<string, string>, fileSha: string, resultsDir: string): void {
  writeStamp(
    { file: opts.file, cacheDir: opts.cache.dir, sets: opts.sets ?? [] },
    { fileSha, watched: [...watched], keys: plan.tasks.map((t) => t.key), stages: plan.stages.map((s) => ({ name: s.name, tasks: s.keys.length })), resultsDir },
  );
}

function tally(e: ExecEvent, counts: { ran: number; cachedByOther: number; failed: number; skipped: number }, failures: RunSummary['failures'], names: Map<string, string>): void {
  if (e.type === 'succeeded') {
    if (e.cachedByOther) counts.cachedByOther++;
    else counts.ran++;
  } else if (e.type === 'failed') {
    counts.failed++;
    failures.push({ name: names.get(e.key) ?? e.key, reason: e.reason, logPath: e.logPath });
  } else if (e.type === 'skipped' || e.type === 'cancelled') counts.skipped++;
}

/** `--only a b`: those stages' tasks and, transitively, the tasks they read. */
export function selectTasks(plan: Plan, only: string[]): PlannedTask[] {
  if (only.length === 0) return plan.tasks;
  for (const s of only) {
    if (!plan.stages.some((st) => st.name === s)) {
      throw new UserError(`--only ${s}: no stage "${s}" in ${plan.file}`, `stages: ${plan.stages.map((st) => st.name).join(', ')}`);
    }
  }
  const byKey = new Map(plan.tasks.map((t) => [t.key, t]));
  const wanted = new Set<string>();
  const add = (key: string) => {
    if (wanted.has(key)) return;
    wanted.add(key);
    for (const d of byKey.get(key)!.deps) add(d);
  };
  for (const t of plan.tasks) if (only.includes(t.stageName)) add(t.key);
  return plan.tasks.filter((t) => wanted.has(t.key));
}

/** `.lw/results` beside the default `.lw/cache`; for another cache dir, `results` beside it. */
export function resultsRoot(cache: Cache): string {
  return join(dirname(cache.dir), 'results');
}

/** Writes `<cache>/specs/<key>.json` (executor.ts) for one planned task; unchanged specs are left alone. */
export function writeSpec(cache: Cache, plan: Plan, t: PlannedTask): void {
  const spec: TaskSpec = {
    version: 1,
    key: t.key,
    name: t.name,
    stageName: t.stageName,
    pipeline: plan.name,
    stage: t.stage,
    params: t.params,
    condition: t.condition,
    inputs: t.inputs,
    keyInputs: t.keyInputs as unknown as Record<string, unknown>,
    pipelineDir: resolve(plan.dir),
  };
  const path = cache.specPath(t.key);
  const text = JSON.stringify(spec, null, 2) + '\n';
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
  writeFileSync(`${path}.${process.pid}.tmp`, text);
  renameSync(`${path}.${process.pid}.tmp`, path);
}
