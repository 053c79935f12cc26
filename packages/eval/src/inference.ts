import { Rng } from '@lw/core';
import { averageRanks } from './ranks.js';
import { correlate, kendallTau, type CompareMethod } from './correlation.js';
import { pairCount, pairIndex } from './rdm.js';

/**
 * Inference over stimuli for RDM comparisons: a permutation test that relabels the stimuli of one
 * RDM (rows and columns together, so pairs keep their structure), and percentile bootstrap
 * confidence intervals that resample stimuli. Both draw from the counter-based Rng, so a result is a
 * pure function of (seed, inputs).
 */

/** Centred and scaled to unit norm: the Pearson r of two such vectors is their dot product. */
function standardise(v: ArrayLike<number>): Float64Array {
  const n = v.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += v[i];
  mean /= n;
  const out = new Float64Array(n);
  let ss = 0;
  for (let i = 0; i < n; i++) { out[i] = v[i] - mean; ss += out[i] * out[i]; }
  const scale = 1 / Math.sqrt(ss);
  for (let i = 0; i < n; i++) out[i] *= scale;
  return out;
}

/** Writes into `out` the upper triangle of the RDM with stimuli relabelled by `perm`: out(a,b) = v(perm[a], perm[b]). */
function permuteUpper(v: ArrayLike<number>, n: number, perm: Int32Array, out: Float64Array): void {
  let p = 0;
  for (let a = 0; a < n; a++) {
    const i = perm[a];
    for (let b = a + 1; b < n; b++) {
      const j = perm[b];
      out[p++] = v[i < j ? pairIndex(i, j, n) : pairIndex(j, i, n)];
    }
  }
}

export interface PermutationOptions { permutations: number; seed: number; }

/**
 * Two-sided permutation p-value of the correlation between two upper-triangle RDM vectors of n
 * stimuli: (1 + #{|r_perm| >= |r_observed|}) / (1 + permutations), which is never 0 (Phipson &
 * Smyth 2010). For Spearman and Pearson the (ranked) vectors are standardised once, since relabelling
 * stimuli only reorders a vector: each permutation then costs one gather and one dot product.
 */
export function permutationPValue(
  reference: ArrayLike<number>, model: ArrayLike<number>, n: number, method: CompareMethod,
  observed: number, { permutations, seed }: PermutationOptions,
): number {
  const rng = new Rng(seed, 'eval/permutation');
  const moved = new Float64Array(pairCount(n));
  let atLeast = 0;
  const threshold = Math.abs(observed) * (1 - 1e-12);
  if (method === 'kendall') {
    for (let k = 0; k < permutations; k++) {
      permuteUpper(model, n, rng.permutation(n), moved);
      if (Math.abs(kendallTau(reference, moved).r) >= threshold) atLeast++;
    }
  } else {
    const ref = standardise(method === 'spearman' ? averageRanks(reference) : reference);
    const mod = standardise(method === 'spearman' ? averageRanks(model) : model);
    for (let k = 0; k < permutations; k++) {
      permuteUpper(mod, n, rng.permutation(n), moved);
      let dot = 0;
      for (let p = 0; p < moved.length; p++) dot += ref[p] * moved[p];
      if (Math.abs(dot) >= threshold) atLeast++;
    }
  }
  return (1 + atLeast) / (1 + permutations);
}

/** Quantile with linear interpolation between order statistics (numpy's default). `sorted` ascending. */
export function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export interface BootstrapOptions { samples: number; seed: number; level?: number; }

/**
 * Percentile bootstrap CI over stimuli: draw n stimuli with replacement, keep the pairs of two
 * different stimuli (a stimulus drawn twice has no dissimilarity with itself, as in rsatoolbox),
 * and correlate. Samples whose correlation is undefined (e.g. too few distinct stimuli) are skipped.
 */
export function bootstrapCi(
  reference: ArrayLike<number>, model: ArrayLike<number>, n: number, method: CompareMethod,
  { samples, seed, level = 0.95 }: BootstrapOptions,
): [number, number] {
  const rng = new Rng(seed, 'eval/bootstrap');
  const stats: number[] = [];
  const pick = new Int32Array(n);
  const maxPairs = pairCount(n);
  const ref = new Float64Array(maxPairs), mod = new Float64Array(maxPairs);
  for (let s = 0; s < samples; s++) {
    for (let a = 0; a < n; a++) pick[a] = rng.int(n);
    let m = 0;
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        const i = pick[a], j = pick[b];
        if (i === j) continue;
        const p = i < j ? pairIndex(i, j, n) : pairIndex(j, i, n);
        ref[m] = reference[p];
        mod[m] = model[p];
        m++;
      }
    }
    if (m < 3) continue;
    const r = correlate(ref.subarray(0, m), mod.subarray(0, m), method).r;
    if (!Number.isNaN(r)) stats.push(r);
  }
  if (stats.length === 0) return [NaN, NaN];
  const sorted = Float64Array.from(stats).sort();
  const tail = (1 - level) / 2;
  return [quantile(sorted, tail), quantile(sorted, 1 - tail)];
}
