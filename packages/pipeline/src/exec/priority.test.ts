import { describe, expect, it } from 'vitest';
import type { InputRef } from './executor.js';
import type { PlannedTask } from '../plan/plan.js';
import { criticalPathPriorities } from './priority.js';

/** The sweep's shape: data -> pretrain -> baseline -> runs resumed from baseline@epoch(E) -> report. */
function task(key: string, deps: string[], work: number, resumeEpoch?: number): PlannedTask {
  const inputs: Record<string, InputRef> = Object.fromEntries(deps.map((d, i) => [`in${i}`, { key: d, stage: 's', name: d, params: {}, condition: {} }]));
  if (resumeEpoch !== undefined) inputs.resume = { key: 'baseline', stage: 's', name: 'baseline', params: {}, condition: {}, epoch: resumeEpoch };
  return { key, name: key, stageName: key, stage: 's', params: {}, condition: {}, inputs, deps, keyInputs: {} as PlannedTask['keyInputs'], work };
}

const plan = [
  task('data', [], 1),
  task('pretrain', ['data'], 10),
  task('vit', ['data'], 15),
  task('baseline', ['pretrain'], 18),
  task('late', ['baseline'], 14, 4),
  task('early', ['baseline'], 18, 0),
  task('report', ['late', 'early', 'vit'], 1),
];

describe('critical-path priorities', () => {
  it('adds the longest chain of dependents: critical path first, long leaves before short ones', () => {
    const p = criticalPathPriorities(plan);
    expect(Object.fromEntries(p)).toEqual({ report: 1, early: 19, late: 15, baseline: 37, pretrain: 47, vit: 16, data: 48 });
  });

  it('counts only dependents among the given tasks (cached ones are not run)', () => {
    const p = criticalPathPriorities(plan.filter((t) => t.key !== 'report'));
    expect(p.get('early')).toBe(18);
    expect(p.get('vit')).toBe(15);
  });
});
