import { existsSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cache } from './cache.js';
import type { Plan } from './plan.js';

/**
 * Easy-to-find results: `<root>/<pipeline>/<stage>` links to a plain stage's entry and
 * `<root>/<pipeline>/<stage>/<condition>` to each condition's entry, plus `results.json`
 * (stage -> task name -> entry dir). Rewritten after every run of the pipeline file; a link is
 * touched only when its target changed, so a no-op rerun costs a readlink per task.
 */
export function updateResultsIndex(root: string, plan: Plan, cache: Cache): string {
  const base = join(root, plan.name);
  mkdirSync(base, { recursive: true });
  const index: Record<string, Record<string, string>> = {};
  const byKey = new Map(plan.tasks.map((t) => [t.key, t]));
  for (const stage of plan.stages) {
    index[stage.name] = {};
    for (const key of stage.keys) if (cache.has(key)) index[stage.name][byKey.get(key)!.name] = cache.entryDir(key);
  }
  const json = join(base, 'results.json');
  const text = JSON.stringify(index, null, 2) + '\n';
  // Fast path of a no-op rerun: same index as last time, so the links are already right.
  if (existsSync(json) && readFileSync(json, 'utf8') === text) return base;
  for (const stage of plan.stages) {
    const tasks = stage.keys.map((k) => byKey.get(k)!);
    const matrix = tasks.some((t) => Object.keys(t.condition).length > 0);
    if (!matrix) {
      if (cache.has(tasks[0].key)) link(join(base, stage.name), cache.entryDir(tasks[0].key));
      continue;
    }
    const dir = join(base, stage.name);
    if (isLink(dir)) rmSync(dir);
    mkdirSync(dir, { recursive: true });
    for (const t of tasks) {
      const name = Object.entries(t.condition).map(([k, v]) => `${k}=${String(v)}`).join(',').replace(/\//g, '_');
      if (cache.has(t.key)) link(join(dir, name), cache.entryDir(t.key));
    }
  }
  writeFileSync(`${json}.tmp`, text);
  renameSync(`${json}.tmp`, json);
  return base;
}

function isLink(path: string): boolean {
  try {
    readlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

function link(path: string, target: string): void {
  let current: string | undefined;
  try {
    current = readlinkSync(path);
  } catch {
    current = undefined;
  }
  if (current === target) return;
  if (current !== undefined || existsSync(path)) rmSync(path, { recursive: true, force: true });
  symlinkSync(target, path);
}
