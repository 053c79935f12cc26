import { basename } from 'node:path';
import { canonicalJson, UserError } from '@lw/core';
import type { Cache } from '../cache/cache.js';
import type { InputKey, KeyInputs } from '../plan/key.js';
import type { Plan, PlannedTask } from '../plan/plan.js';
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
  /** One per differing key input; `task` names the upstream task an element of a list input now is. */
  changes: { path: string; before: unknown; after: unknown; task?: string }[];
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
    if (Array.isArray(a) && Array.isArray(b)) {
      if (path.startsWith('inputs')) out.push(...listChanges(a as InputKey[], b as InputKey[], path, names));
      else if (a.length === b.length) a.forEach((x, i) => walk(x, b[i], `${path}[${i}]`));
      else out.push({ path, before: a, after: b });
      return;
    }
    const label = (v: unknown) => (typeof v === 'string' && names.has(v) ? `${v.slice(0, 12)} (${names.get(v)} now)` : v);
    out.push({ path, before: path.startsWith('inputs') ? label(a) : a, after: path.startsWith('inputs') ? label(b) : b });
  };
  walk(before, after, '');
  return out;
}

/**
 * A list input (`runs: [sweep]`, one key per upstream task) element by element: which task's key
 * changed, which were added or removed, rather than the two lists whole. Elements are matched by
 * key; a removed and an added one at the same place are one change.
 */
function listChanges(a: InputKey[], b: InputKey[], path: string, names: Map<string, string>): Explanation['changes'] {
  const id = (k: InputKey) => canonicalJson(k);
  const keyOf = (k: InputKey) => (typeof k === 'string' ? k : k.key);
  const short = (k: InputKey) => (typeof k === 'string' ? k.slice(0, 12) : `${k.key.slice(0, 12)}@epoch(${k.epoch})`);
  const inA = new Set(a.map(id)), inB = new Set(b.map(id));
  const removed = new Map(a.flatMap((k, i) => (inB.has(id(k)) ? [] : [[i, k] as const])));
  const added = new Map(b.flatMap((k, i) => (inA.has(id(k)) ? [] : [[i, k] as const])));
  const out: Explanation['changes'] = [];
  for (const i of [...new Set([...removed.keys(), ...added.keys()])].sort((x, y) => x - y)) {
    const was = removed.get(i), now = added.get(i);
    const task = now !== undefined ? names.get(keyOf(now)) : undefined;
    out.push({ path: `${path}[${i}]`, before: was === undefined ? null : short(was), after: now === undefined ? null : short(now), ...(task ? { task } : {}) });
  }
  return out;
}

/** One change as `lw explain` prints it: `inputs.runs[3]: sweep[start=4] key abc -> def` for a list element. */
export function formatChange(c: Explanation['changes'][number]): string {
  const listElement = c.path.startsWith('inputs') && /\[\d+\]$/.test(c.path);
  if (!listElement) return `${c.path}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`;
  const task = c.task ? `${c.task} ` : '';
  if (c.before === null) return `${c.path}: ${task}added (key ${String(c.after)})`;
  if (c.after === null) return `${c.path}: removed (key ${String(c.before)})`;
  return `${c.path}: ${task}key ${String(c.before)} -> ${String(c.after)}`;
}
