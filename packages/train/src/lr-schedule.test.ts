import { describe, expect, it } from 'vitest';
import { vitLearningRate } from './lr-schedule.js';

describe('vitLearningRate (method §7.1)', () => {
  const lr = (k: number) => vitLearningRate(k, 0.1, 100, 5);
  it('runs epoch 0 at the full rate, then warms up linearly', () => {
    expect(lr(0)).toBe(0.1);
    expect([1, 2, 3, 4, 5].map(lr).map((x) => +x.toFixed(12))).toEqual([0.02, 0.04, 0.06, 0.08, 0.1]);
  });
  it('follows the cosine stepped after each epoch from epoch 6 on', () => {
    expect(lr(6)).toBeCloseTo(0.1, 15);
    // after 0-based epoch k >= 5 the scheduler sets 0.1*0.5*(1+cos(pi*(k-5)/95)) for epoch k+1
    for (const k of [5, 20, 52, 98]) expect(lr(k + 1)).toBeCloseTo(0.05 * (1 + Math.cos((Math.PI * (k - 5)) / 95)), 15);
    // the study's last epoch ≈ 1e-4: 0.05*(1 - cos(2pi/95)) by hand = 1.0931864e-4
    expect(lr(99)).toBeCloseTo(1.0931864e-4, 11);
    expect(lr(99)).toBeGreaterThan(0);
  });
  it('rejects a warm-up as long as training', () => {
    expect(() => vitLearningRate(0, 0.1, 5, 5)).toThrow(/warmup/);
  });
});
