import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '@lw/core';
import type { Cache, EntryCheck } from '../cache/cache.js';
import type { ExecEvent, ExecTask, Executor, TaskSpec } from '../exec/executor.js';
import { criticalPathPriorities } from '../exec/priority.js';
import { loadPlan } from '../plan/load.js';
import { writeStamp } from '../cache/noop-stamp.js';
import type { Plan, PlannedTask } from '../plan/plan.js';
import type { Registry } from '../stages/registry.js';
import { updateResultsIndex } from '../cache/results-index.js';
import { taskProblems } from '../exec/task-problems.js';
import { RunView, type ViewStream } from './view.js';

/**
 * `lw run`: plan, check the cached entries (a corrupted one is removed and recomputed), write
 * specs for the rest, point the results tree at this plan, hand the tasks to an executor, follow
 * its events until everything settled, then update the results tree again.
 */
export interface RunOptions {
  file: string;
  cache: Cache;
  /** Where the results tree goes (`<resultsRoot>/<pipeline>/...`); default `.lw/results` of the
   *  working directory (or LW_RESULTS). */
  resultsRoot?: string;
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
  /** Cached entries whose files no longer matched their checksums.json: removed (dry run: kept)
   *  and counted as to run. */
  corrupt: { name: string; key: string; files: string[] }[];
  plan: Plan;
}

export async function runPipeline(opts: RunOptions): Promise<RunSummary> {
  const { cache } = opts;
  const root = opts.resultsRoot ?? defaultResultsRoot();
  const { plan, watched, fileSha } = await loadPlan(opts.file, opts.sets ?? [], opts.cache, opts.registry);
  const tasks = selectTasks(plan, opts.only ?? []);
  const stream = opts.stream ?? process.stderr;
  const { intact, corrupt } = checkCached(cache, plan, !opts.dryRun, stream);
  const toRun = tasks.filter((t) => !intact.has(t.key));
  const cachedCount = tasks.length - toRun.length;
  const base = { tasks: tasks.length, cached: cachedCount, failures: [], corrupt, plan, skipped: 0, cancelled: false };
  if (opts.dryRun) return { ...base, ran: 0, failed: 0, toRun: toRun.length };
  const selected = new Set(tasks.map((t) => t.key));
  const outside = `not part of this run (--only ${(opts.only ?? []).join(' ')})`;
  if (toRun.length === 0) {
    const resultsDir = updateResultsIndex(root, plan, cache, () => outside);
    if (!opts.only?.length) stamp(opts, plan, watched, fileSha, resultsDir, intact);
    return { ...base, ran: 0, failed: 0, resultsDir };
  }
  cache.sweepTemp();
  for (const t of toRun) writeSpec(cache, plan, t);
  const executor = opts.executor(plan);
  // Before anything runs, the tree drops every other run's links: a run killed outright (second
  // Ctrl-C, kill -9) leaves this plan's cached entries and NOT_RUN markers, never stale links.
  const started = new Date().toISOString();
  const why = new Map<string, string>();
  const whyNot = (t: PlannedTask) => why.get(t.key) ?? (selected.has(t.key) ? `the run started at ${started} did not finish it` : outside);
  updateResultsIndex(root, plan, cache, whyNot);
  const priority = criticalPathPriorities(toRun);
  const submitted = execTasks(toRun, priority);
  const names = new Map(plan.tasks.map((t) => [t.key, t.name]));
  const view = new RunView(stream, names, tasks.length, cachedCount, executor.name);
  const counts = { ran: 0, cachedByOther: 0, failed: 0, skipped: 0 };
  const failures: RunSummary['failures'] = [];
  let cancelled = false;
  const onAbort = () => {
    cancelled = true;
    void executor.cancel('interrupted');
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await executor.submit(submitted);
    for (;;) {
      const { events, settled } = await executor.poll(1000);
      for (const e of events) {
        view.event(e);
        tally(e, counts, failures, names);
        if (e.type === 'failed') why.set(e.key, `it failed: ${e.reason}${e.logPath ? ` (log: ${e.logPath})` : ''}`);
        else if (e.type === 'skipped') why.set(e.key, `it was not run: ${e.reason}`);
        else if (e.type === 'cancelled') why.set(e.key, `it was cancelled: ${e.reason}`);
        if (e.type === 'failed' && opts.failFast) void executor.cancel('--fail-fast: another task failed');
      }
      if (settled) break;
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    view.finish();
  }
  const resultsDir = updateResultsIndex(root, plan, cache, whyNot);
  if (!opts.only?.length && !cancelled && plan.tasks.every((t) => cache.has(t.key))) stamp(opts, plan, watched, fileSha, resultsDir, intact);
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

/**
 * Checks every cached entry of the plan against its checksums.json (fast path: only files whose
 * size or mtime changed are hashed), so that a corrupted entry is neither served as a result nor
 * read by a downstream task. A corrupted entry is removed (`remove`; a dry run only reports it)
 * and its task runs again. Returns the intact entries' stats as checked (for the run stamp).
 */
function checkCached(cache: Cache, plan: Plan, remove: boolean, stream: ViewStream): { intact: Map<string, [string, string][]>; corrupt: RunSummary['corrupt'] } {
  const intact = new Map<string, [string, string][]>();
  const corrupt: RunSummary['corrupt'] = [];
  for (const t of plan.tasks) {
    let checked: EntryCheck;
    try {
      if (!cache.has(t.key)) continue;
      checked = cache.check(t.key);
    } catch (e) {
      if (!cache.has(t.key)) continue; // removed meanwhile (lw verify, gc): it is simply not cached
      throw e;
    }
    const { bad, stamp } = checked;
    if (stamp) {
      intact.set(t.key, stamp);
      continue;
    }
    corrupt.push({ name: t.name, key: t.key, files: bad });
    if (remove) {
      try {
        cache.remove(t.key);
      } catch (e) {
        // Left in place, it would be served again (a new entry cannot replace it): stop here.
        throw new UserError(`the cache entry of ${t.name} (${cache.entryDir(t.key)}) is corrupted (${bad.join(', ')}) and cannot be removed: ${(e as Error).message}`, 'remove it as its owner (lw verify does), then run again');
      }
      stream.write(`corrupted cache entry of ${t.name} (${cache.entryDir(t.key)}): files not matching its checksums.json: ${bad.join(', ')}; removed, so it is recomputed\n`);
    }
  }
  return { intact, corrupt };
}

/**
 * Records what "everything is cached" depended on, for the no-op fast path of the next run: besides
 * the inputs of the plan, the stats of every entry's files as checked (entries this run published
 * are checked now) and the results index written.
 */
function stamp(opts: RunOptions, plan: Plan, watched: Map<string, string>, fileSha: string, resultsDir: string, intact: Map<string, [string, string][]>): void {
  const entries: [string, string][] = [];
  for (const t of plan.tasks) {
    const records = intact.get(t.key) ?? opts.cache.check(t.key).stamp;
    if (!records) return;
    entries.push(...records);
  }
  writeStamp(
    { file: opts.file, cacheDir: opts.cache.dir, sets: opts.sets ?? [], resultsRoot: opts.resultsRoot ?? defaultResultsRoot() },
    {
      fileSha,
      watched: [...watched],
      keys: plan.tasks.map((t) => t.key),
      entries,
      stages: plan.stages.map((s) => ({ name: s.name, tasks: s.keys.length })),
      resultsDir,
      resultsSha: createHash('sha256').update(readFileSync(join(resultsDir, 'results.json'))).digest('hex'),
      problems: taskProblems(opts.cache, plan.tasks),
    },
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

/** `.lw/results` of the working directory, or LW_RESULTS: not beside the cache, so two caches
 *  never share one results tree and every project directory has its own. */
export function defaultResultsRoot(): string {
  return resolve(process.env.LW_RESULTS ?? '.lw/results');
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

/** Tasks as an executor gets them: dependencies outside `tasks` (cached ones) are not listed. */
export function execTasks(tasks: PlannedTask[], priority?: Map<string, number>): ExecTask[] {
  const listed = new Set(tasks.map((t) => t.key));
  return tasks.map((t) => ({ key: t.key, name: t.name, stageName: t.stageName, stage: t.stage, deps: t.deps.filter((d) => listed.has(d)), priority: priority?.get(t.key) }));
}
