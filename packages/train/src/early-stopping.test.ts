import { describe, expect, it } from 'vitest';
import { earlyStoppingUpdate, RESUMED_BEST_LOSS } from './early-stopping.js';

function run(losses: number[], patience: number, windowEpochs: number[] = [], best = RESUMED_BEST_LOSS) {
  let state = { best, counter: 0 };
  for (let e = 1; e <= losses.length; e++) {
    const r = earlyStoppingUpdate(state, losses[e - 1], patience, windowEpochs.includes(e));
    state = r.state;
    if (r.stop) return { stoppedAt: e, state };
  }
  return { stoppedAt: undefined, state };
}

describe('early stopping (method §3.2, §3.4)', () => {
  it('stops when the counter reaches patience after the last strict improvement', () => {
    expect(run([5, 4, 3, 3.5, 3.2, 3.1], 3)).toEqual({ stoppedAt: 6, state: { best: 3, counter: 3 } });
  });
  it('counts an equal loss as no improvement (strict <)', () => {
    expect(run([5, 5, 5], 2).stoppedAt).toBe(3);
  });
  it('resets the counter on improvement', () => {
    expect(run([5, 6, 6, 4, 6, 6], 3).stoppedAt).toBeUndefined();
  });
  it('freezes the counter inside the perturbation window but still records improvements', () => {
    expect(run([5, 9, 9, 9, 9], 2, [2, 3, 4]).stoppedAt).toBeUndefined();
    expect(run([5, 9, 9, 9, 9, 9], 2, [2, 3, 4])).toEqual({ stoppedAt: 6, state: { best: 5, counter: 2 } });
    expect(run([5, 4], 2, [2]).state).toEqual({ best: 4, counter: 0 });
  });
  it('a resumed run starts from the sentinel 500000, so its first epoch always improves', () => {
    expect(RESUMED_BEST_LOSS).toBe(500000);
    expect(run([1e5], 1).state).toEqual({ best: 1e5, counter: 0 });
  });
  it('a baseline compares its first epoch with the initial validation loss', () => {
    expect(run([7], 1, [], 6).stoppedAt).toBe(1);
  });
});
