import { averageRanks, radixSort, sameAsPrevious, type Sorted } from './ranks.js';
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

/** NaN has no rank: like SciPy's default nan_policy ('propagate'), a NaN anywhere gives r = p = NaN. */
function hasNaN(x: ArrayLike<number>, y: ArrayLike<number>): boolean {
  for (let i = 0; i < x.length; i++) if (Number.isNaN(x[i]) || Number.isNaN(y[i])) return true;
  return false;
}

const BLOCK = 1024;

/** Sum of f(i) for i in [0, n), by blocks of 1024: rounding error grows with n / 1024, not n (1.7M pairs). */
function blockedSum(n: number, f: (i: number) => number): number {
  let total = 0;
  for (let lo = 0; lo < n; lo += BLOCK) {
    const hi = Math.min(lo + BLOCK, n);
    let part = 0;
    for (let i = lo; i < hi; i++) part += f(i);
    total += part;
  }
  return total;
}

/** Pearson's r, two-pass (centred sums) for accuracy; NaN when either vector is constant. */
export function pearsonR(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPair(x, y);
  const n = x.length;
  const mx = blockedSum(n, (i) => x[i]) / n, my = blockedSum(n, (i) => y[i]) / n;
  const sxy = blockedSum(n, (i) => (x[i] - mx) * (y[i] - my));
  const sxx = blockedSum(n, (i) => (x[i] - mx) ** 2);
  const syy = blockedSum(n, (i) => (y[i] - my) ** 2);
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
  if (hasNaN(x, y)) return { r: NaN, p: NaN };
  const r = pearsonR(averageRanks(x), averageRanks(y));
  return { r, p: studentTPValue(r, x.length) };
}

/** Tie statistics of sorted values: sums over tie groups of t(t-1)/2, t(t-1)(t-2), t(t-1)(2t+5) (scipy's count_rank_tie). */
function tieSums(s: Sorted): { pairs: number; t2: number; t5: number } {
  let pairs = 0, t2 = 0, t5 = 0;
  const n = s.order.length;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && sameAsPrevious(s, end)) end++;
    const t = end - start;
    if (t > 1) {
      pairs += (t * (t - 1)) / 2;
      t2 += t * (t - 1) * (t - 2);
      t5 += t * (t - 1) * (2 * t + 5);
    }
    start = end;
  }
  return { pairs, t2, t5 };
}

const RUN = 32;

/**
 * Number of pairs i < j with a[i] > a[j] (strictly); sorts `a`. Insertion sort of runs of 32 (each
 * shift is one inversion), then bottom-up merges (an element taken from the right half jumps every
 * element left in the left half).
 */
function countInversions(a: Int32Array): number {
  const n = a.length;
  let inversions = 0;
  for (let lo = 0; lo < n; lo += RUN) {
    const hi = Math.min(lo + RUN, n);
    for (let i = lo + 1; i < hi; i++) {
      const v = a[i];
      let j = i - 1;
      while (j >= lo && a[j] > v) { a[j + 1] = a[j]; j--; }
      inversions += i - 1 - j;
      a[j + 1] = v;
    }
  }
  let src: Int32Array = a, dst: Int32Array = new Int32Array(n);
  for (let width = RUN; width < n; width *= 2) {
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
  if (hasNaN(x, y)) return { r: NaN, p: NaN };
  const n = x.length;
  // Sort by y; then a stable sort by x of the y-sorted pairs gives lexicographic (x, y) order.
  const byY = radixSort(y);
  const yRankByY = new Int32Array(n), xByY = new Float64Array(n);
  for (let k = 0, group = 0; k < n; k++) {
    if (k > 0 && !sameAsPrevious(byY, k)) group++;
    yRankByY[k] = group;
    xByY[k] = x[byY.order[k]];
  }
  const byXY = radixSort(xByY);
  const ys = new Int32Array(n);
  for (let k = 0; k < n; k++) ys[k] = yRankByY[byXY.order[k]];

  let jointTies = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && sameAsPrevious(byXY, end) && ys[end] === ys[start]) end++;
    const t = end - start;
    jointTies += (t * (t - 1)) / 2;
    start = end;
  }
  // Within a tie in x, y is ascending, so every inversion of y is a discordant pair.
  const discordant = countInversions(ys);

  const xt = tieSums(byXY), yt = tieSums(byY);
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
