import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Cache } from './cache.js';
import { processAlive } from './lock.js';
import type { Plan, PlannedTask } from '../plan/plan.js';

/**
 * The results tree of one run: `<root>/<pipeline>/<stage>` for a plain stage and
 * `<root>/<pipeline>/<stage>/<condition>` for each condition of a matrix stage, plus
 * `results.json` (stage -> task name -> entry dir, for the tasks whose entry exists).
 *
 * It shows exactly the plan of the run that wrote it: a task whose entry exists is a link to that
 * entry (the key is the plan's, so it is this plan's result whoever computed it); any other task
 * is a directory holding only a `NOT_RUN` file that says why, never a link left by another run.
 * Names the plan no longer has (removed conditions and stages) are removed when they are ours
 * (links, NOT_RUN markers, directories of those); anything else a user put there is left alone.
 * `lw run` writes it before it starts anything and again when it ends, so even a run killed
 * outright leaves no other run's links. Links are replaced by rename, so a concurrent run of the
 * same file never sees a missing or half-made name. When every task is cached and results.json
 * is what it was, the tree is already right and is not walked (the no-op rerun).
 */
export const NOT_RUN = 'NOT_RUN';

/** Why a task has no entry, for its NOT_RUN file. */
export type WhyNotRun = (task: PlannedTask) => string;

export function updateResultsIndex(root: string, plan: Plan, cache: Cache, why: WhyNotRun = () => 'it has no cache entry'): string {
  const base = join(root, plan.name);
  mkdirSync(base, { recursive: true });
  const done = new Set(plan.tasks.filter((t) => cache.has(t.key)).map((t) => t.key));
  const byKey = new Map(plan.tasks.map((t) => [t.key, t]));
  const index: Record<string, Record<string, string>> = {};
  for (const stage of plan.stages) {
    index[stage.name] = {};
    for (const key of stage.keys) if (done.has(key)) index[stage.name][byKey.get(key)!.name] = cache.entryDir(key);
  }
  const json = join(base, 'results.json');
  const text = JSON.stringify(index, null, 2) + '\n';
  if (done.size === plan.tasks.length && existsSync(json) && readFileSync(json, 'utf8') === text) return base;

  const place = (path: string, t: PlannedTask) => {
    if (done.has(t.key)) link(path, cache.entryDir(t.key));
    else marker(path, `${t.name} did not complete in the last run of ${plan.file}: ${why(t)}.\nIts key is ${t.key}; \`lw run\` computes it, \`lw status\` lists what is missing.\n`);
  };
  const stageNames = new Set(['results.json']);
  for (const stage of plan.stages) {
    stageNames.add(stage.name);
    const tasks = stage.keys.map((k) => byKey.get(k)!);
    const dir = join(base, stage.name);
    if (!tasks.some((t) => Object.keys(t.condition).length > 0)) {
      place(dir, tasks[0]);
      continue;
    }
    if (!isPlainDir(dir) || isMarker(dir)) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
    }
    const names = new Set<string>();
    for (const t of tasks) {
      const name = conditionName(t);
      names.add(name);
      place(join(dir, name), t);
    }
    prune(dir, names);
  }
  prune(base, stageNames);
  const tmp = join(base, `${TMP}${process.pid}-results.json`);
  writeFileSync(tmp, text);
  renameSync(tmp, json);
  return base;
}

/** `type=image_noise,start=5`: a condition's name in the tree. */
export function conditionName(t: PlannedTask): string {
  return Object.entries(t.condition).map(([k, v]) => `${k}=${String(v)}`).join(',').replace(/\//g, '_');
}

/** Prefix of names being made by a run (pid follows); a concurrent run leaves live ones alone. */
const TMP = '.lw-tmp-';

function link(path: string, target: string): void {
  let current: string | undefined;
  try {
    current = readlinkSync(path);
  } catch {
    current = undefined;
  }
  if (current !== target) replace(path, (tmp) => symlinkSync(target, tmp));
}

function marker(path: string, text: string): void {
  if (isMarker(path) && readFileSync(join(path, NOT_RUN), 'utf8') === text) return;
  replace(path, (tmp) => {
    mkdirSync(tmp);
    writeFileSync(join(tmp, NOT_RUN), text);
  });
}

/** Makes the new node under a temp name, then renames it over `path` (removing what is in the way). */
function replace(path: string, make: (tmp: string) => void): void {
  const tmp = join(dirname(path), `${TMP}${process.pid}-${basename(path)}`);
  rmSync(tmp, { recursive: true, force: true });
  make(tmp);
  for (let attempt = 0; ; attempt++) {
    try {
      renameSync(tmp, path);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (attempt >= 3 || !['EISDIR', 'ENOTDIR', 'ENOTEMPTY', 'EEXIST'].includes(code)) throw e;
      rmSync(path, { recursive: true, force: true });
    }
  }
}

/** Removes what `dir` holds besides `keep`, when it is ours. */
function prune(dir: string, keep: Set<string>): void {
  for (const name of readdirSync(dir)) {
    if (keep.has(name)) continue;
    const tmp = name.startsWith(TMP) ? /^\.lw-tmp-(\d+)-/.exec(name) : null;
    if (tmp && processAlive(Number(tmp[1]))) continue;
    const p = join(dir, name);
    if (tmp || ours(p)) rmSync(p, { recursive: true, force: true });
  }
}

/** A link, a NOT_RUN file, or a directory of only those: what this module writes. */
function ours(path: string): boolean {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return true;
  if (st.isDirectory()) return readdirSync(path).every((n) => ours(join(path, n)));
  return basename(path) === NOT_RUN;
}

function isPlainDir(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isMarker(path: string): boolean {
  if (!isPlainDir(path)) return false;
  const names = readdirSync(path);
  return names.length === 1 && names[0] === NOT_RUN;
}
