import { describe, expect, it } from 'vitest';
import { Rng } from '@lw/core';
import { spearman, kendallTau, pearson } from './correlation.js';
import { bootstrapCi, permutationPValue, quantile } from './inference.js';
import { pairCount, pairIndex, pairwiseDissimilarities } from './rdm.js';

function randomRdm(n: number, seed: number): Float64Array {
  const rng = new Rng(seed, 'test-features');
  return pairwiseDissimilarities(rng.normals(n * 4), n, 4, 'euclidean');
}

/** Relabels stimuli the slow, obvious way: rebuild the full matrix and read its upper triangle. */
function permutedSlow(v: Float64Array, n: number, perm: Int32Array): Float64Array {
  const out = new Float64Array(pairCount(n));
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const i = Math.min(perm[a], perm[b]), j = Math.max(perm[a], perm[b]);
      out[pairIndex(a, b, n)] = v[pairIndex(i, j, n)];
    }
  }
  return out;
}

describe('permutation test', () => {
  const n = 12, human = randomRdm(n, 1);
  const model = human.map((v, k) => v + 0.8 * Math.sin(k * 7.1));

  for (const [method, fn] of [['spearman', spearman], ['pearson', pearson], ['kendall', kendallTau]] as const) {
    it(`${method}: equals a brute-force count that re-correlates each relabelled RDM with the same permutations`, () => {
      const observed = fn(human, model).r, permutations = 200, seed = 5;
      const rng = new Rng(seed, 'eval/permutation');
      let atLeast = 0;
      for (let k = 0; k < permutations; k++) {
        if (Math.abs(fn(human, permutedSlow(model, n, rng.permutation(n))).r) >= Math.abs(observed) * (1 - 1e-12)) atLeast++;
      }
      expect(permutationPValue(human, model, n, method, observed, { permutations, seed })).toBe((1 + atLeast) / (1 + permutations));
    });
  }

  it('an RDM against itself is never beaten: p = 1 / (N + 1)', () => {
    const h = randomRdm(20, 3);
    expect(permutationPValue(h, h, 20, 'spearman', 1, { permutations: 99, seed: 1 })).toBe(0.01);
  });

  it('unrelated RDMs give p-values spread over (0, 1]', () => {
    const ps = Array.from({ length: 40 }, (_, s) => {
      const h = randomRdm(10, 100 + s), m = randomRdm(10, 200 + s);
      return permutationPValue(h, m, 10, 'spearman', spearman(h, m).r, { permutations: 99, seed: s });
    });
    const below = ps.filter((p) => p <= 0.5).length;
    expect(below).toBeGreaterThan(8);
    expect(below).toBeLessThan(32);
  });
});

describe('bootstrap CI', () => {
  it('is deterministic for a seed, brackets the observed rho, and is [1, 1] for identical RDMs', () => {
    const n = 16, h = randomRdm(n, 9), m = h.map((v, k) => v + Math.cos(k));
    const ci = bootstrapCi(h, m, n, 'spearman', { samples: 300, seed: 4 });
    expect(ci).toEqual(bootstrapCi(h, m, n, 'spearman', { samples: 300, seed: 4 }));
    expect(ci[0]).toBeLessThan(spearman(h, m).r);
    expect(ci[1]).toBeGreaterThan(spearman(h, m).r);
    const same = bootstrapCi(h, h, n, 'spearman', { samples: 50, seed: 1 });
    expect(same[0]).toBeCloseTo(1, 12);
    expect(same[1]).toBeCloseTo(1, 12);
  });

  it('quantile interpolates like numpy', () => {
    // np.quantile([1, 2, 3, 4], 0.25) = 1.75
    expect(quantile(Float64Array.from([1, 2, 3, 4]), 0.25)).toBeCloseTo(1.75, 15);
  });
});
