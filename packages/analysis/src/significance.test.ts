import { describe, expect, it } from 'vitest';
import { benjaminiHochberg, pairedTTest } from './significance.js';
import { studentTTwoSidedP } from './student-t.js';

describe('pairedTTest (one-sample t of per-seed differences)', () => {
  it('matches the closed form for df = 2: p = 1 − |t| / √(2 + t²)', () => {
    // [6, 7, 8]: mean 7, s = 1, t = 7√3 = √147; p = 1 − √(147/149) (scipy.stats.ttest_1samp: 0.006734083335155563).
    const test = pairedTTest([6, 7, 8])!;
    expect(test.t).toBeCloseTo(Math.sqrt(147), 12);
    expect(test.df).toBe(2);
    expect(test.p).toBeCloseTo(1 - Math.sqrt(147 / 149), 12);
    // [0.5, −0.4, 0.2]: a difference within its own spread; t = 0.1 / (0.458258 / √3) = 0.377964 (scipy: p 0.741801110252839).
    expect(pairedTTest([0.5, -0.4, 0.2])!.p).toBeCloseTo(0.741801110252839, 10);
  });

  it('matches the Cauchy closed form for df = 1: p = 1 − (2/π)·atan|t|', () => {
    // [1, 3]: mean 2, s = √2, t = 2 / (√2/√2) = 2.
    expect(pairedTTest([1, 3])!.p).toBeCloseTo(1 - (2 / Math.PI) * Math.atan(2), 12);
    expect(studentTTwoSidedP(-2, 1)).toBeCloseTo(1 - (2 / Math.PI) * Math.atan(2), 12);
  });

  it('has no test for one seed, and handles differences without spread', () => {
    expect(pairedTTest([0.3])).toBeNull();
    // Equal differences (up to rounding of their mean): no spread, so any non-zero mean is beyond it.
    expect(pairedTTest([0.2, 0.2, 0.2])!.p).toBeLessThan(1e-15);
    expect(pairedTTest([0.25, 0.25])!.p).toBe(0);
    expect(pairedTTest([0, 0])!.p).toBe(1);
  });
});

describe('benjaminiHochberg', () => {
  it('adjusts in input order as R p.adjust(method = "BH")', () => {
    // Sorted 0.005, 0.01, 0.03, 0.04 (m = 4): p·m/rank = 0.02, 0.02, 0.04, 0.04; running minimum from the top.
    benjaminiHochberg([0.01, 0.04, 0.03, 0.005]).forEach((q, i) => expect(q).toBeCloseTo([0.02, 0.04, 0.04, 0.02][i]!, 15));
    // 0.02·3/1 = 0.06 > 0.03·3/2 = 0.045: the smaller later value caps the earlier one.
    const q = benjaminiHochberg([0.02, 0.03, 0.5]);
    expect(q[0]).toBeCloseTo(0.045, 15);
    expect(q[1]).toBeCloseTo(0.045, 15);
    expect(q[2]).toBe(0.5);
    expect(benjaminiHochberg([0.9, 0.8])).toEqual([0.9, 0.9]);
    expect(benjaminiHochberg([])).toEqual([]);
  });
});
