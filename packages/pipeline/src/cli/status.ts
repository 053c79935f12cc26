import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Cache } from '../cache/cache.js';
import type { Plan } from '../plan/plan.js';

/**
 * `lw status`: per stage, how many tasks are cached, stale (the last run's results index has the
 * same task name under another key, so something it depends on changed) and missing (no entry,
 * and nothing changed: never run, or its own entry was removed by `lw verify` or `lw gc`).
 */
export interface StageStatus {
  stage: string;
  uses: string;
  tasks: number;
  cached: number;
  stale: string[];
  missing: string[];
}

export function pipelineStatus(plan: Plan, cache: Cache, resultsRoot: string): StageStatus[] {
  const previous = lastIndex(plan, resultsRoot);
  const byKey = new Map(plan.tasks.map((t) => [t.key, t]));
  return plan.stages.map((s) => {
    const status: StageStatus = { stage: s.name, uses: s.uses, tasks: s.keys.length, cached: 0, stale: [], missing: [] };
    for (const key of s.keys) {
      const t = byKey.get(key)!;
      if (cache.has(key)) status.cached++;
      else if (isOtherKey(previous[s.name]?.[t.name], key)) status.stale.push(t.name);
      else status.missing.push(t.name);
    }
    return status;
  });
}

/** The last run's entry dir names another key (an entry dir is `<cache>/<k0k1>/<key>`). */
function isOtherKey(entryDir: string | undefined, key: string): boolean {
  return entryDir !== undefined && basename(entryDir) !== key;
}

/** The results index of the last run of this pipeline: stage -> task name -> entry dir. */
export function lastIndex(plan: Plan, resultsRoot: string): Record<string, Record<string, string>> {
  const path = join(resultsRoot, plan.name, 'results.json');
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, string>>;
  } catch {
    return {};
  }
}
