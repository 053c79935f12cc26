import { basename } from 'node:path';
import { canonicalJson, UserError } from '@lw/core';
import type { Cache } from './cache.js';
import type { KeyInputs } from './key.js';
import type { Plan, PlannedTask } from './plan.js';
import { lastIndex } from './status.js';

/**
 * `lw explain FILE TASK`: why a task will (or will not) run. Compares the key inputs the planner
 * computes now with the `task.json` of the entry the last run of this task produced, and lists
 * every path that differs. Upstream changes show as changed input keys, named after their task.
 */
export interface Explanation {
  task: string;
  key: string;
  cached: boolean;
  previousKey?: string;
  changes: { path: string; before: unknown; after: unknown }[];
}

export function findTask(plan: Plan, name: string): PlannedTask {
  const exact = plan.tasks.find((t) => t.name === name);
  if (exact) return exact;
  const ofStage = plan.tasks.filter((t) => t.stageName === name);
  if (ofStage.length === 1) return ofStage[0];
  const hint = ofStage.length > 1 ? `stage "${name}" has ${ofStage.length} tasks, e.g. ${ofStage[0].name}` : `tasks: ${plan.tasks.slice(0, 5).map((t) => t.name).join(', ')}${plan.tasks.length > 5 ? ', ...' : ''}`;
  throw new UserError(`no task "${name}" in ${plan.file}`, hint);
}

export function explain(plan: Plan, cache: Cache, name: string, resultsRoot: string): Explanation {
  const task = findTask(plan, name);
  const cached = cache.has(task.key);
  const prevDir = lastIndex(plan, resultsRoot)[task.stageName]?.[task.name];
  const previousKey = prevDir ? basename(prevDir) : undefined;
  if (cached || !previousKey || previousKey === task.key) return { task: task.name, key: task.key, cached, previousKey, changes: [] };
  const before = cache.readTask(previousKey);
  if (!before) return { task: task.name, key: task.key, cached, previousKey, changes: [{ path: '(entry)', before: previousKey, after: 'the previous entry is gone from the cache (gc, verify)' }] };
  return { task: task.name, key: task.key, cached, previousKey, changes: diff(before, task.keyInputs, plan) };
}

function diff(before: KeyInputs, after: KeyInputs, plan: Plan): Explanation['changes'] {
  const names = new Map(plan.tasks.map((t) => [t.key, t.name]));
  const out: Explanation['changes'] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (canonicalJson(a ?? null) === canonicalJson(b ?? null)) return;
    const objects = a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b);
    if (objects) {
      const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
      for (const k of [...keys].sort()) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      return;
    }
    const label = (v: unknown) => (typeof v === 'string' && names.has(v) ? `${v.slice(0, 12)} (${names.get(v)} now)` : v);
    out.push({ path, before: path.startsWith('inputs') ? label(a) : a, after: path.startsWith('inputs') ? label(b) : b });
  };
  walk(before, after, '');
  return out;
}
