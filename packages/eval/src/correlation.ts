import { averageRanks, denseRanks } from './ranks.js';
import { normalTwoSidedPValue, studentTPValue } from './special.js';

/**
 * Correlations between two equally long vectors (typically two RDMs' upper triangles), in float64,
 * with the p-values SciPy reports: Student t (df = n - 2) for Pearson and Spearman, the tie-corrected
 * normal approximation for Kendall's tau-b.
 */

export type CompareMethod = 'spearman' | 'pearson' | 'kendall';
export interface Correlation { r: number; p: number; }

function checkPair(x: ArrayLike<number>, y: ArrayLike<number>): void {
  if (x.length !== y.length) throw new RangeError(`vectors differ in length: ${x.length} vs ${y.length}`);
}

/** Pearson's r, two-pass (centred sums) for accuracy; NaN when either vector is constant. */
export function pearsonR(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPair(x, y);
  const n = x.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
  mx /= n; my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): Correlation {
  const r = pearsonR(x, y);
  return { r, p: studentTPValue(r, x.length) };
}

/** Spearman's rho: Pearson's r of average ranks (ties matter: the study's RDM has 580 values in 1128). */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): Correlation {
  checkPair(x, y);
  const r = pearsonR(averageRanks(x), averageRanks(y));
  return { r, p: studentTPValue(r, x.length) };
}

/** Sum over tie groups of t(t-1)/2, t(t-1)(t-2) and t(t-1)(2t+5), as scipy's count_rank_tie. */
function tieSums(ranks: Int32Array, distinct: number): { pairs: number; t2: number; t5: number } {
  const counts = new Float64Array(distinct);
  for (let i = 0; i < ranks.length; i++) counts[ranks[i]]++;
  let pairs = 0, t2 = 0, t5 = 0;
  for (const t of counts) {
    if (t < 2) continue;
    pairs += (t * (t - 1)) / 2;
    t2 += t * (t - 1) * (t - 2);
    t5 += t * (t - 1) * (2 * t + 5);
  }
  return { pairs, t2, t5 };
}

/** Stable counting sort of `order` by `key[order[i]]` (keys in 0..distinct-1). */
function countingSortBy(order: Int32Array, key: Int32Array, distinct: number): Int32Array {
  const start = new Int32Array(distinct + 1);
  for (let i = 0; i < order.length; i++) start[key[order[i]] + 1]++;
  for (let k = 0; k < distinct; k++) start[k + 1] += start[k];
  const out = new Int32Array(order.length);
  for (let i = 0; i < order.length; i++) out[start[key[order[i]]]++] = order[i];
  return out;
}

/** Number of pairs i < j with a[i] > a[j] (strictly), by bottom-up merge sort; sorts `a`. */
function countInversions(a: Int32Array): number {
  const n = a.length;
  let src: Int32Array = a, dst: Int32Array = new Int32Array(n), inversions = 0;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n), hi = Math.min(lo + 2 * width, n);
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        if (src[j] < src[i]) { inversions += mid - i; dst[k++] = src[j++]; }
        else dst[k++] = src[i++];
      }
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
    }
    const t = src; src = dst; dst = t;
  }
  return inversions;
}

/**
 * Kendall's tau-b in O(n log n) (Knight 1966): order the pairs by (x, y), count ties in x, in y and
 * in both, and count discordant pairs as the inversions of y in that order. The p-value is SciPy's
 * 'asymptotic' method: z = (concordant - discordant) / sqrt(var) with the tie-corrected variance,
 * two-sided normal. (SciPy's default switches to an exact null for n <= 33 without ties; we do not.)
 */
export function kendallTau(x: ArrayLike<number>, y: ArrayLike<number>): Correlation {
  checkPair(x, y);
  const n = x.length;
  const xr = denseRanks(x), yr = denseRanks(y);
  let order: Int32Array = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order = countingSortBy(countingSortBy(order, yr.ranks, yr.distinct), xr.ranks, xr.distinct);

  let jointTies = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    const a = order[start];
    while (end < n && xr.ranks[order[end]] === xr.ranks[a] && yr.ranks[order[end]] === yr.ranks[a]) end++;
    const t = end - start;
    jointTies += (t * (t - 1)) / 2;
    start = end;
  }
  const yInOrder = new Int32Array(n);
  for (let i = 0; i < n; i++) yInOrder[i] = yr.ranks[order[i]];
  const discordant = countInversions(yInOrder);

  const xt = tieSums(xr.ranks, xr.distinct), yt = tieSums(yr.ranks, yr.distinct);
  const total = (n * (n - 1)) / 2;
  const conMinusDis = total - xt.pairs - yt.pairs + jointTies - 2 * discordant;
  const denom = Math.sqrt(total - xt.pairs) * Math.sqrt(total - yt.pairs);
  if (denom === 0) return { r: NaN, p: NaN };
  const r = Math.max(-1, Math.min(1, conMinusDis / denom));

  const m = n * (n - 1);
  const variance = (m * (2 * n + 5) - xt.t5 - yt.t5) / 18 + (2 * xt.pairs * yt.pairs) / m
    + (xt.t2 * yt.t2) / (9 * m * (n - 2));
  return { r, p: normalTwoSidedPValue(conMinusDis / Math.sqrt(variance)) };
}

export function correlate(x: ArrayLike<number>, y: ArrayLike<number>, method: CompareMethod): Correlation {
  if (method === 'spearman') return spearman(x, y);
  if (method === 'pearson') return pearson(x, y);
  return kendallTau(x, y);
}
