import { UserError } from '@lw/core';

/**
 * Representational dissimilarity matrices from a feature matrix, in float64.
 * Features are row-major [n, d] (one row per stimulus); RDMs are full row-major [n, n] or their
 * upper triangle (k = 1) as a vector of n(n-1)/2 pairs in row-major i < j order, as
 * `scipy.spatial.distance.pdist` and `np.triu_indices(n, 1)` give them.
 */

export type Metric = 'correlation' | 'cosine' | 'euclidean';
export const METRICS: readonly Metric[] = ['correlation', 'cosine', 'euclidean'];

type Features = ArrayLike<number>;

function checkShape(features: Features, n: number, d: number): void {
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 1 || d < 1 || features.length !== n * d) {
    throw new RangeError(`features of length ${features.length} are not [n=${n}, d=${d}]`);
  }
}

/** Number of pairs i < j among n stimuli. */
export function pairCount(n: number): number {
  return (n * (n - 1)) / 2;
}

/** Position of pair (i, j), i < j, in the upper-triangle vector of an n x n matrix. */
export function pairIndex(i: number, j: number, n: number): number {
  return i * n - (i * (i + 1)) / 2 + (j - i - 1);
}

/** Rows scaled to unit length, optionally after centring each row on its mean. [n, d] */
function unitRows(features: Features, n: number, d: number, centre: boolean): Float64Array {
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let mean = 0;
    if (centre) {
      for (let k = 0; k < d; k++) mean += features[o + k];
      mean /= d;
    }
    let norm = 0;
    for (let k = 0; k < d; k++) {
      const v = features[o + k] - mean;
      out[o + k] = v;
      norm += v * v;
    }
    // A constant row (zero norm) has no defined correlation: NaN, as np.corrcoef gives.
    const scale = 1 / Math.sqrt(norm);
    for (let k = 0; k < d; k++) out[o + k] *= scale;
  }
  return out;
}

/** Upper triangle of 1 - <u_i, u_j> for unit rows u: [n(n-1)/2]. */
function oneMinusDots(u: Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(pairCount(n));
  let p = 0;
  for (let i = 0; i < n; i++) {
    const oi = i * d;
    for (let j = i + 1; j < n; j++) {
      const oj = j * d;
      let dot = 0;
      for (let k = 0; k < d; k++) dot += u[oi + k] * u[oj + k];
      // Clip like np.corrcoef does, so rounding never gives a correlation beyond +-1.
      out[p++] = 1 - Math.max(-1, Math.min(1, dot));
    }
  }
  return out;
}

/** Upper-triangle dissimilarities [n(n-1)/2] of the rows of `features` [n, d] (pdist order). */
export function pairwiseDissimilarities(features: Features, n: number, d: number, metric: Metric): Float64Array {
  checkShape(features, n, d);
  if (metric === 'correlation') return oneMinusDots(unitRows(features, n, d, true), n, d);
  if (metric === 'cosine') return oneMinusDots(unitRows(features, n, d, false), n, d);
  if (metric === 'euclidean') {
    const out = new Float64Array(pairCount(n));
    let p = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) {
          const diff = features[i * d + k] - features[j * d + k];
          s += diff * diff;
        }
        out[p++] = Math.sqrt(s);
      }
    }
    return out;
  }
  throw new RangeError(`unknown metric ${String(metric)}; expected one of ${METRICS.join(', ')}`);
}

/** Full symmetric [n, n] matrix with zero diagonal from an upper-triangle vector. */
export function squareForm(upper: ArrayLike<number>, n: number): Float64Array {
  if (upper.length !== pairCount(n)) throw new RangeError(`${upper.length} values are not the pairs of n=${n}`);
  const full = new Float64Array(n * n);
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      full[i * n + j] = upper[p];
      full[j * n + i] = upper[p];
      p++;
    }
  }
  return full;
}

/** The upper triangle (k = 1) of a row-major [n, n] matrix, row-major i < j: [n(n-1)/2]. */
export function upperTriangle(full: ArrayLike<number>, n: number): Float64Array {
  if (full.length !== n * n) throw new RangeError(`matrix of length ${full.length} is not ${n} x ${n}`);
  const out = new Float64Array(pairCount(n));
  let p = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out[p++] = full[i * n + j];
  return out;
}

/** Full [n, n] RDM, diagonal 0. `correlationRdm` is the study's: 1 - Pearson between rows (np.corrcoef). */
export function computeRdm(features: Features, n: number, d: number, metric: Metric): Float64Array {
  return squareForm(pairwiseDissimilarities(features, n, d, metric), n);
}
export const correlationRdm = (f: Features, n: number, d: number) => computeRdm(f, n, d, 'correlation');

/** n from the number of values of a square matrix (n*n) or of its upper triangle (n(n-1)/2); null if neither. */
export function sizeOfRdm(length: number): { n: number; square: boolean } | null {
  const sq = Math.round(Math.sqrt(length));
  if (sq * sq === length && sq > 1) return { n: sq, square: true };
  const n = Math.round((1 + Math.sqrt(1 + 8 * length)) / 2);
  if (pairCount(n) === length && n > 1) return { n, square: false };
  return null;
}

/**
 * Checks that a full [n, n] human RDM is finite, has a zero diagonal and is symmetric within
 * `tolerance` (relative to the larger magnitude, at least absolute); throws a UserError naming the
 * first bad cell (1-based row and column) and the file it came from.
 */
export function validateRdm(full: ArrayLike<number>, n: number, source: string, tolerance = 1e-8): void {
  if (full.length !== n * n) {
    throw new UserError(`${source}: an RDM must be square; got ${full.length} values for ${n} rows`,
      'give an n x n matrix of dissimilarities');
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = full[i * n + j];
      if (!Number.isFinite(v)) {
        throw new UserError(`${source}: RDM cell (row ${i + 1}, column ${j + 1}) is ${v}`,
          'every dissimilarity must be a finite number');
      }
      if (i === j && Math.abs(v) > tolerance) {
        throw new UserError(`${source}: RDM diagonal cell (row ${i + 1}, column ${j + 1}) is ${v}, not 0`,
          'a stimulus is not dissimilar to itself: the diagonal must be 0');
      }
      if (j > i) {
        const w = full[j * n + i];
        if (Math.abs(v - w) > tolerance * Math.max(1, Math.abs(v), Math.abs(w))) {
          throw new UserError(
            `${source}: RDM is not symmetric: cell (row ${i + 1}, column ${j + 1}) is ${v} but (row ${j + 1}, column ${i + 1}) is ${w}`,
            'a dissimilarity matrix must equal its transpose');
        }
      }
    }
  }
}
