import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { averageRanks, denseRanks } from './ranks.js';
import { kendallTau, pearson, spearman } from './correlation.js';

const ref = JSON.parse(readFileSync(new URL('../fixtures/scipy_reference.json', import.meta.url), 'utf8'));

/** O(n^2) tau-b straight from the definition, as an independent check of Knight's algorithm. */
function bruteTauB(x: number[], y: number[]): number {
  let c = 0, d = 0, tx = 0, ty = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) {
      const sx = Math.sign(x[i] - x[j]), sy = Math.sign(y[i] - y[j]);
      if (sx === 0 && sy === 0) continue;
      if (sx === 0) tx++;
      else if (sy === 0) ty++;
      else if (sx === sy) c++;
      else d++;
    }
  }
  return (c - d) / Math.sqrt((c + d + tx) * (c + d + ty));
}

describe('ranks', () => {
  it('averages tied ranks', () => {
    expect(Array.from(averageRanks([10, 20, 20, 30]))).toEqual([1, 2.5, 2.5, 4]);
    expect(Array.from(averageRanks([3, 1, 3, 3, 2]))).toEqual([4, 1, 4, 4, 2]);
    expect(Array.from(averageRanks([-0, 0, 1]))).toEqual([1.5, 1.5, 3]);
  });
  it('gives dense ranks', () => {
    const { ranks, distinct } = denseRanks([5, 1, 5, 2]);
    expect(Array.from(ranks)).toEqual([2, 0, 2, 1]);
    expect(distinct).toBe(3);
  });
});

describe('correlations: closed forms and hand-computed ties', () => {
  it('monotone and reversed vectors give +1 and -1', () => {
    const x = [1, 2, 3, 4, 5, 6], up = x.map((v) => v ** 3), down = x.map((v) => -Math.exp(v));
    expect(spearman(x, up).r).toBeCloseTo(1, 15);
    expect(spearman(x, down).r).toBeCloseTo(-1, 15);
    expect(kendallTau(x, up).r).toBeCloseTo(1, 15);
    expect(kendallTau(x, down).r).toBeCloseTo(-1, 15);
    expect(pearson(x, x.map((v) => 2 * v - 7)).r).toBeCloseTo(1, 15);
  });

  it('NaN anywhere gives NaN, as SciPy\'s default nan_policy does', () => {
    for (const fn of [spearman, kendallTau, pearson]) {
      const r = fn([1, 2, NaN, 4], [1, 2, 3, 4]);
      expect(r.r).toBeNaN();
      expect(r.p).toBeNaN();
    }
  });

  it('spearman with a tie: ranks [1, 2.5, 2.5, 4] vs [1, 2, 3, 4] give 4.5 / sqrt(4.5 * 5) = 3 / sqrt(10)', () => {
    expect(spearman([1, 2, 2, 3], [1, 2, 3, 4]).r).toBeCloseTo(3 / Math.sqrt(10), 15);
  });

  it('kendall tau-b by hand: one discordant pair of six gives 2/3; ties in x and y give 4/5', () => {
    expect(kendallTau([1, 2, 3, 4], [1, 3, 2, 4]).r).toBeCloseTo(2 / 3, 15);
    // pairs: C = 4, D = 0, one tie in x only, one tie in y only: 4 / sqrt(5 * 5)
    expect(kendallTau([1, 1, 2, 3], [1, 2, 2, 3]).r).toBeCloseTo(0.8, 15);
  });

  it('kendall matches the O(n^2) definition on tie-heavy random data', () => {
    let s = 7;
    const next = () => (s = (s * 1103515245 + 12345) % 2147483648) % 6;
    const x = Array.from({ length: 300 }, next), y = x.map((v) => v + next());
    expect(kendallTau(x, y).r).toBeCloseTo(bruteTauB(x, y), 13);
  });
});

describe('correlations against SciPy (spearmanr, kendalltau asymptotic, pearsonr)', () => {
  for (const [k, c] of (ref.cases as Array<Record<string, number[]>>).entries()) {
    it(`case ${k} (n=${c.x.length})`, () => {
      for (const [name, fn] of [['spearman', spearman], ['kendall', kendallTau], ['pearson', pearson]] as const) {
        const got = fn(c.x, c.y), [r, p] = c[name];
        expect(got.r, name).toBeCloseTo(r, 12);
        expect(Math.abs(got.p - p) / Math.max(p, 1e-300), `${name} p`).toBeLessThan(1e-8);
      }
    });
  }
});

describe('sortOrder (radix sort on float64 bits)', () => {
  it('orders negatives, zeros, subnormals, infinities and duplicates like a numeric sort, stably', async () => {
    const { sortOrder } = await import('./ranks.js');
    const v = [3.5, -0, -1e300, Infinity, 5e-324, 0, -Infinity, 2 ** 40, -2.5, 3.5, -5e-324, 1e-300, -2.5];
    const order = Array.from(sortOrder(v));
    const expected = v.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, i]) => i);
    expect(order).toEqual(expected);
  });
});
