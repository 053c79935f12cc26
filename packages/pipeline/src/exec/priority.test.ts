import { describe, expect, it } from 'vitest';
import type { InputRef } from './executor.js';
import type { PlannedTask } from '../plan/plan.js';
import { criticalPathPriorities, estimatedWork } from './priority.js';

/** The sweep's shape: data -> pretrain -> baseline -> runs resumed from baseline@epoch(E) -> report. */
function task(key: string, deps: string[], params: Record<string, unknown>, resumeEpoch?: number): PlannedTask {
  const inputs: Record<string, InputRef> = Object.fromEntries(deps.map((d, i) => [`in${i}`, { key: d, stage: 's', name: d, params: {}, condition: {} }]));
  if (resumeEpoch !== undefined) inputs.resume = { key: 'baseline', stage: 's', name: 'baseline', params: {}, condition: {}, epoch: resumeEpoch };
  return { key, name: key, stageName: key, stage: 's', params, condition: {}, inputs, deps, keyInputs: {} as PlannedTask['keyInputs'] };
}

const plan = [
  task('data', [], {}),
  task('pretrain', ['data'], { epochs: 10 }),
  task('vit', ['data'], { epochs: 15 }),
  task('baseline', ['pretrain'], { epochs: 18 }),
  task('late', ['baseline'], { epochs: 18 }, 4),
  task('early', ['baseline'], { epochs: 18 }, 0),
  task('report', ['late', 'early', 'vit'], {}),
];

describe('critical-path priorities', () => {
  it('estimates a task as its epochs after the checkpoint it resumes from, else 1', () => {
    expect(plan.map(estimatedWork)).toEqual([1, 10, 15, 18, 14, 18, 1]);
  });

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
