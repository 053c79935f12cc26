import { describe, expect, it } from 'vitest';
import { Rng, philox4x32 } from './rng.js';

describe('philox4x32', () => {
  // Known-answer vectors from Random123's kat_vectors (philox4x32_10).
  it.each([
    [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
  ])('matches the Random123 known answer %#', (ctr, key, want) => {
    const out = new Uint32Array(4);
    philox4x32(ctr, key, out);
    expect([...out]).toEqual(want);
  });
});

describe('Rng', () => {
  it('is a pure function of seed and path', () => {
    const a = new Rng(42, 'perturb', 5, 3).normals(100);
    const b = new Rng(42, 'perturb', 5, 3).normals(100);
    expect(a).toEqual(b);
    expect(new Rng(42, 'perturb', 5, 4).normals(100)).not.toEqual(a);
    expect(new Rng(43, 'perturb', 5, 3).normals(100)).not.toEqual(a);
    expect(new Rng(1, 'x').fork('y', 2).uniform()).toBe(new Rng(1, 'x', 'y', 2).uniform());
  });

  it('draws uniforms with the right moments', () => {
    const n = 200_000;
    const u = new Rng(7, 'u').uniforms(n);
    let s = 0, s2 = 0;
    let outside = 0;
    for (const x of u) { s += x; s2 += x * x; if (!(x >= 0 && x < 1)) outside++; }
    expect(outside).toBe(0);
    const mean = s / n, v = s2 / n - mean * mean;
    // standard errors: mean 1/sqrt(12 n) = 6.5e-4; 5 SE bounds
    expect(Math.abs(mean - 0.5)).toBeLessThan(3.3e-3);
    expect(Math.abs(v - 1 / 12)).toBeLessThan(2e-3);
  });

  it('draws normals with the right moments and tails', () => {
    const n = 200_000;
    const z = new Rng(7, 'n').normals(n, 5.6906, 10.1787);
    let s = 0, s2 = 0, beyond2 = 0;
    for (const x of z) { s += x; s2 += x * x; if (Math.abs((x - 5.6906) / 10.1787) > 1.959964) beyond2++; }
    const mean = s / n, sd = Math.sqrt(s2 / n - mean * mean);
    expect(Math.abs(mean - 5.6906)).toBeLessThan(5 * 10.1787 / Math.sqrt(n));
    expect(Math.abs(sd - 10.1787)).toBeLessThan(0.1);
    // P(|Z| > 1.96) = 0.05, SE = sqrt(0.05*0.95/n) = 4.9e-4
    expect(Math.abs(beyond2 / n - 0.05)).toBeLessThan(2.5e-3);
  });

  it('streams with different paths are uncorrelated', () => {
    const n = 100_000;
    const a = new Rng(1, 'batch', 0).normals(n), b = new Rng(1, 'batch', 1).normals(n);
    let ab = 0;
    for (let i = 0; i < n; i++) ab += a[i] * b[i];
    // correlation of independent normals ~ N(0, 1/n): 5 SE = 0.0158
    expect(Math.abs(ab / n)).toBeLessThan(0.0158);
  });

  it('permutations are valid and uniform over positions', () => {
    const n = 8, trials = 40_000;
    const counts = Array.from({ length: n }, () => new Array(n).fill(0));
    const rng = new Rng(3, 'perm');
    for (let t = 0; t < trials; t++) {
      const p = rng.permutation(n);
      expect([...p].sort((x, y) => x - y)).toEqual([...Array(n).keys()]);
      p.forEach((v, i) => counts[i][v]++);
    }
    // chi-square over 64 cells, df = 49 for a doubly-stochastic table; 99.99% quantile ~ 95
    const e = trials / n;
    let chi2 = 0;
    for (const row of counts) for (const c of row) chi2 += (c - e) ** 2 / e;
    expect(chi2).toBeLessThan(100);
    expect(chi2).toBeGreaterThan(20);
  });
});
