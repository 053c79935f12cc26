import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cache } from './cache.js';
import type { Plan } from './plan.js';
import { resultsRoot } from './run.js';

/**
 * `lw status`: per stage, how many tasks are cached, stale (a previous run of the same task name
 * has an entry under another key, so something it depends on changed) and missing (never run).
 */
export interface StageStatus {
  stage: string;
  uses: string;
  tasks: number;
  cached: number;
  stale: string[];
  missing: string[];
}

export function pipelineStatus(plan: Plan, cache: Cache): StageStatus[] {
  const previous = lastIndex(plan, cache);
  const byKey = new Map(plan.tasks.map((t) => [t.key, t]));
  return plan.stages.map((s) => {
    const status: StageStatus = { stage: s.name, uses: s.uses, tasks: s.keys.length, cached: 0, stale: [], missing: [] };
    for (const key of s.keys) {
      const t = byKey.get(key)!;
      if (cache.has(key)) status.cached++;
      else if (previous[s.name]?.[t.name]) status.stale.push(t.name);
      else status.missing.push(t.name);
    }
    return status;
  });
}

/** The results index of the last run of this pipeline: stage -> task name -> entry dir. */
export function lastIndex(plan: Plan, cache: Cache): Record<string, Record<string, string>> {
  const path = join(resultsRoot(cache), plan.name, 'results.json');
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, string>>;
  } catch {
    return {};
  }
}
