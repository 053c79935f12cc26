import { describe, expect, it } from 'vitest';
import type { ExecTask } from '../executor.js';
import { planJobs, type KnownDep } from './plan.js';

const task = (key: string, stageName: string, deps: string[] = []): ExecTask => ({
  key, name: key, stageName, stage: 'exec', deps,
});
const shape = (plan: ReturnType<typeof planJobs>) =>
  plan.jobs.map((j) => ({ keys: j.tasks.map((t) => t.key), array: j.array, afterOk: j.afterOk }));
const nothingKnown = () => undefined;

describe('planJobs', () => {
  it('makes a matrix stage that waits on one job a single array, and its consumer wait on the array', () => {
    const tasks = [
      task('data', 'data'),
      task('base', 'baseline', ['data']),
      task('s1', 'sweep', ['base']),
      task('s2', 'sweep', ['base']),
      task('s3', 'sweep', ['base']),
      task('fig', 'figures', ['base', 's1', 's2', 's3']),
    ];
    expect(shape(planJobs(tasks, { arrays: true, known: nothingKnown }))).toEqual([
      { keys: ['data'], array: false, afterOk: [] },
      { keys: ['base'], array: false, afterOk: [{ planned: 0 }] },
      { keys: ['s1', 's2', 's3'], array: true, afterOk: [{ planned: 1 }] },
      { keys: ['fig'], array: false, afterOk: [{ planned: 1 }, { planned: 2 }] },
    ]);
  });

  it('waits on single array tasks when a consumer needs only some of them', () => {
    const tasks = [task('a1', 'a'), task('a2', 'a'), task('a3', 'a'), task('b', 'b', ['a3', 'a1'])];
    expect(shape(planJobs(tasks, { arrays: true, known: nothingKnown })).at(-1)?.afterOk).toEqual([
      { planned: 0, task: 0 },
      { planned: 0, task: 2 },
    ]);
  });

  it('keeps tasks with different dependencies apart, so one failure cancels only its own dependents', () => {
    // Condition-bound references: b[x] needs a[x] only.
    const tasks = [task('a1', 'a'), task('a2', 'a'), task('b1', 'b', ['a1']), task('b2', 'b', ['a2'])];
    expect(shape(planJobs(tasks, { arrays: true, known: nothingKnown }))).toEqual([
      { keys: ['a1', 'a2'], array: true, afterOk: [] },
      { keys: ['b1'], array: false, afterOk: [{ planned: 0, task: 0 }] },
      { keys: ['b2'], array: false, afterOk: [{ planned: 0, task: 1 }] },
    ]);
  });

  it('submits one job per task when arrays are off', () => {
    const tasks = [task('a1', 'a'), task('a2', 'a')];
    expect(shape(planJobs(tasks, { arrays: false, known: nothingKnown }))).toEqual([
      { keys: ['a1'], array: false, afterOk: [] },
      { keys: ['a2'], array: false, afterOk: [] },
    ]);
  });

  it('uses what earlier submits left: running jobs by id, successes not at all, failures skip', () => {
    const earlier: Record<string, KnownDep> = { r: { jobId: '77_3' }, ok: { done: 'succeeded' }, bad: { done: 'failed', reason: 'x' } };
    const known = (key: string): KnownDep | undefined => earlier[key];
    const plan = planJobs([task('x', 'x', ['r', 'ok']), task('y', 'y', ['bad']), task('z', 'z', ['y'])], { arrays: true, known });
    expect(shape(plan)).toEqual([{ keys: ['x'], array: false, afterOk: [{ submitted: '77_3' }] }]);
    expect(plan.skipped.map((s) => [s.task.key, s.because])).toEqual([['y', 'bad'], ['z', 'y']]);
  });

  it('submits a key once when two conditions resolve to the same work', () => {
    const tasks = [task('a', 'a'), task('same', 'b', ['a']), task('same', 'b', ['a'])];
    expect(shape(planJobs(tasks, { arrays: true, known: nothingKnown })).map((j) => j.keys)).toEqual([['a'], ['same']]);
  });

  it('refuses tasks out of dependency order', () => {
    expect(() => planJobs([task('b', 'b', ['a']), task('a', 'a')], { arrays: true, known: nothingKnown })).toThrow(/not submitted before/);
  });

  it('handles tasks of one stage spread through a topological order', () => {
    const tasks = [task('a1', 'a'), task('b1', 'b', ['a1']), task('a2', 'a', ['b1'])];
    expect(shape(planJobs(tasks, { arrays: true, known: nothingKnown }))).toEqual([
      { keys: ['a1'], array: false, afterOk: [] },
      { keys: ['b1'], array: false, afterOk: [{ planned: 0 }] },
      { keys: ['a2'], array: false, afterOk: [{ planned: 1 }] },
    ]);
  });
});
