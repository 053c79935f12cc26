import { UserError } from '@lw/core';

/**
 * Centred kernel alignment (Kornblith, Norouzi, Lee & Hinton 2019, "Similarity of neural network
 * representations revisited"), beside RSA: how alike two representations of the same n stimuli are,
 * from their n x n Gram matrices K (of X, n x d1) and L (of Y, n x d2):
 *
 *   CKA(K, L) = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)),   HSIC(K, L) = tr(K H L H) / (n - 1)^2,
 *
 * H = I - 11'/n the centring matrix. Kernels:
 * - `linear`: K = X X'. Then CKA = ||Y_c' X_c||_F^2 / (||X_c' X_c||_F ||Y_c' Y_c||_F) on column-centred
 *   X_c, Y_c; invariant to orthogonal transforms, isotropic scaling and translation of either side.
 * - `rbf`: K_ij = exp(-||x_i - x_j||^2 / (2 sigma^2)). The bandwidth is Kornblith et al.'s: sigma is a
 *   fraction (`sigma`, default 0.8) of the median Euclidean distance between stimuli, computed as
 *   their code's `gram_rbf(x, threshold)` does it: sigma^2 = threshold^2 * median of the full n x n
 *   matrix of squared distances (diagonal zeros included, each pair twice). Each side gets its own
 *   sigma from its own distances; both are reported. The paper reports 0.2, 0.4 and 0.8; their code's
 *   default is 1.0. `sigmaAbsolute` instead fixes sigma in feature units for both sides, which is what
 *   thingsvision's `CKA(kernel='rbf', sigma=...)` takes (its default 1.0).
 *
 * `unbiased`: the unbiased HSIC estimator (Song et al. 2012, as used by Nguyen, Raghu & Kornblith
 * 2021 and offered by thingsvision as `unbiased=True`), computed by U-centring the Grams (Szekely &
 * Rizzo 2014: diagonal zeroed, row/column sums over n - 2, the grand sum over (n - 1)(n - 2)); it
 * needs n >= 4 and can be negative. The 1/(n-1)^2 or 1/(n(n-3)) factors of HSIC cancel in CKA.
 *
 * Everything is float64: features are converted, column-centred, and distances taken from
 * differences (no ||x||^2 - 2x'y + ||y||^2 cancellation); sums are compensated. NaN or infinite
 * features, row counts that differ, too few stimuli, and features equal on every stimulus (CKA 0/0)
 * are UserErrors naming the input.
 */

export type CkaKernel = 'linear' | 'rbf';
export const CKA_KERNELS: readonly CkaKernel[] = ['linear', 'rbf'];

/** Default RBF bandwidth: 0.8 x the median distance between stimuli (the widest of Kornblith et al.'s reported 0.2/0.4/0.8). */
export const CKA_DEFAULT_SIGMA = 0.8;

/** A feature matrix [n, d], row-major, row i = stimulus i. */
export interface FeatureMatrix {
  features: ArrayLike<number>;
  n: number;
  d: number;
  /** Names the matrix in errors and in ckaMatrix's output (a file, a layer). */
  name?: string;
  /** Stimulus ids of the rows, used in error messages. */
  ids?: string[];
}

export interface CkaOptions {
  /** Default 'linear'. */
  kernel?: CkaKernel;
  /** RBF bandwidth as a fraction of the median distance between stimuli (Kornblith et al.); default 0.8. */
  sigma?: number;
  /** RBF bandwidth in feature units, the same for both sides (thingsvision's `sigma`); overrides `sigma`. */
  sigmaAbsolute?: number;
  /** Unbiased HSIC estimator (Song et al. 2012); default false. Needs n >= 4. */
  unbiased?: boolean;
}

/** A centred (or U-centred) Gram matrix of one representation, reusable against many others. */
export interface CenteredGram {
  n: number;
  /** [n, n] centred Gram, row-major. */
  gram: Float64Array;
  /** Frobenius norm of `gram`. */
  norm: number;
  kernel: CkaKernel;
  unbiased: boolean;
  /** RBF only: the bandwidth used, in feature units. */
  sigma?: number;
  source: string;
}

export interface CkaResult {
  cka: number;
  kernel: CkaKernel;
  unbiased: boolean;
  n: number;
  /** RBF with a relative bandwidth: the fraction of the median distance. */
  sigma?: number;
  /** RBF: the bandwidths used for X and for Y, in their feature units. */
  sigmaX?: number;
  sigmaY?: number;
}

/** Sum with Neumaier's compensation. */
function compensated(values: ArrayLike<number>): number {
  let sum = 0, c = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const t = sum + v;
    c += Math.abs(sum) >= Math.abs(v) ? (sum - t) + v : (v - t) + sum;
    sum = t;
  }
  return sum + c;
}

function dotCompensated(a: Float64Array, b: Float64Array): number {
  let sum = 0, c = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i] * b[i];
    const t = sum + v;
    c += Math.abs(sum) >= Math.abs(v) ? (sum - t) + v : (v - t) + sum;
    sum = t;
  }
  return sum + c;
}

function resolveOptions(options: CkaOptions): Required<Pick<CkaOptions, 'kernel' | 'unbiased'>> & { sigma: number; sigmaAbsolute?: number } {
  const { kernel = 'linear', unbiased = false, sigma = CKA_DEFAULT_SIGMA, sigmaAbsolute } = options;
  if (!CKA_KERNELS.includes(kernel)) throw new UserError(`CKA: unknown kernel "${kernel}"`, `use one of ${CKA_KERNELS.join(', ')}`);
  if (!(Number.isFinite(sigma) && sigma > 0)) {
    throw new UserError(`CKA: sigma ${sigma} is not a positive number`, 'sigma is the RBF bandwidth as a fraction of the median distance between stimuli, e.g. 0.8');
  }
  if (sigmaAbsolute !== undefined && !(Number.isFinite(sigmaAbsolute) && sigmaAbsolute > 0)) {
    throw new UserError(`CKA: absolute sigma ${sigmaAbsolute} is not a positive number`, 'give the RBF bandwidth in feature units, e.g. 1.0');
  }
  return { kernel, unbiased, sigma, sigmaAbsolute };
}

/** Checks a feature matrix and returns it column-centred in float64. */
function centredFeatures(f: FeatureMatrix, unbiased: boolean): Float64Array {
  const { n, d, features } = f;
  const source = f.name ?? 'features';
  if (!Number.isInteger(n) || !Number.isInteger(d) || d < 1 || n < 0) throw new UserError(`${source}: shape ${n} x ${d} is not a feature matrix`);
  if (features.length !== n * d) throw new UserError(`${source}: ${features.length} values are not ${n} stimuli x ${d} features`);
  const minimum = unbiased ? 4 : 2;
  if (n < minimum) {
    throw new UserError(`${source}: ${n} stimuli; ${unbiased ? 'unbiased ' : ''}CKA needs at least ${minimum}`,
      unbiased ? 'the unbiased HSIC estimator divides by n(n - 3): give 4 or more stimuli, or drop --unbiased' : 'give 2 or more stimuli');
  }
  const item = (i: number) => `row ${i + 1} of ${n}${f.ids?.[i] !== undefined ? ` (${f.ids[i]})` : ''}`;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) {
      const v = features[i * d + k];
      if (!Number.isFinite(v)) {
        throw new UserError(`${source}: ${item(i)} has ${v} at feature ${k + 1} of ${d}`, 'every feature must be a finite number; a NaN usually means the model diverged');
      }
    }
  }
  let constant = true;
  for (let i = 1; i < n && constant; i++) {
    for (let k = 0; k < d; k++) if (features[i * d + k] !== features[k]) { constant = false; break; }
  }
  if (constant) {
    throw new UserError(`${source}: every one of the ${n} stimuli has the same features, so its centred Gram matrix is 0 and CKA is 0/0`,
      'a collapsed model gives identical rows; check the features');
  }
  const out = new Float64Array(n * d);
  const column = new Float64Array(n);
  for (let k = 0; k < d; k++) {
    for (let i = 0; i < n; i++) column[i] = features[i * d + k];
    const mean = compensated(column) / n;
    for (let i = 0; i < n; i++) out[i * d + k] = column[i] - mean;
  }
  return out;
}

/** Squared Euclidean distances [n, n] between the rows, from differences. */
function squaredDistances(x: Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) { const t = x[i * d + k] - x[j * d + k]; s += t * t; }
      out[i * n + j] = s; out[j * n + i] = s;
    }
  }
  return out;
}

/**
 * Median of the full n x n matrix of squared distances, diagonal zeros included (numpy's
 * `np.median(sq_distances)` in Kornblith et al.'s `gram_rbf`): the n^2 values are n zeros and each
 * pair's distance twice.
 */
export function medianSquaredDistance(sq: Float64Array, n: number): number {
  const pairs = new Float64Array((n * (n - 1)) / 2);
  let p = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairs[p++] = sq[i * n + j];
  pairs.sort();
  const at = (k: number) => (k < n ? 0 : pairs[Math.floor((k - n) / 2)]);
  const total = n * n;
  return total % 2 === 1 ? at((total - 1) / 2) : (at(total / 2 - 1) + at(total / 2)) / 2;
}

/** The RBF bandwidth (feature units) Kornblith et al.'s convention gives a feature matrix: fraction x sqrt(median squared distance). */
export function rbfBandwidth(f: FeatureMatrix, fraction = CKA_DEFAULT_SIGMA): number {
  const x = centredFeatures(f, false);
  return fraction * Math.sqrt(medianSquaredDistance(squaredDistances(x, f.n, f.d), f.n));
}

/** Centres K in place: H K H (biased) or the U-centring of the unbiased estimator. */
function centreGram(k: Float64Array, n: number, unbiased: boolean): void {
  const rows = new Float64Array(n);
  const line = new Float64Array(n);
  if (!unbiased) {
    for (let i = 0; i < n; i++) { for (let j = 0; j < n; j++) line[j] = k[i * n + j]; rows[i] = compensated(line) / n; }
    const grand = compensated(rows) / n;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) k[i * n + j] = k[i * n + j] - rows[i] - rows[j] + grand;
    return;
  }
  for (let i = 0; i < n; i++) k[i * n + i] = 0;
  for (let i = 0; i < n; i++) { for (let j = 0; j < n; j++) line[j] = k[i * n + j]; rows[i] = compensated(line); }
  const grand = compensated(rows) / ((n - 1) * (n - 2));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) k[i * n + j] = i === j ? 0 : k[i * n + j] - rows[i] / (n - 2) - rows[j] / (n - 2) + grand;
  }
}

/**
 * The centred Gram matrix of one representation under `options` (kernel, bandwidth, estimator). For
 * many comparisons of the same features (every layer against the human embedding, a layer x layer
 * matrix), compute it once and pass it to ckaFromGrams.
 */
export function centeredGram(f: FeatureMatrix, options: CkaOptions = {}): CenteredGram {
  const o = resolveOptions(options);
  const { n, d } = f;
  const source = f.name ?? 'features';
  const x = centredFeatures(f, o.unbiased);
  const k = new Float64Array(n * n);
  let sigma: number | undefined;
  if (o.kernel === 'linear') {
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += x[i * d + c] * x[j * d + c];
        k[i * n + j] = s; k[j * n + i] = s;
      }
    }
  } else {
    const sq = squaredDistances(x, n, d);
    if (o.sigmaAbsolute !== undefined) sigma = o.sigmaAbsolute;
    else {
      const median = medianSquaredDistance(sq, n);
      if (!(median > 0)) {
        throw new UserError(`${source}: the median distance between its ${n} stimuli is 0 (most rows are identical), so the relative RBF bandwidth is 0`,
          'check the features, or give the bandwidth in feature units (sigmaAbsolute, --sigma-absolute)');
      }
      sigma = o.sigma * Math.sqrt(median);
    }
    const scale = -1 / (2 * sigma * sigma);
    for (let p = 0; p < n * n; p++) k[p] = Math.exp(sq[p] * scale);
  }
  centreGram(k, n, o.unbiased);
  const norm = Math.sqrt(dotCompensated(k, k));
  if (!(norm > 0)) {
    throw new UserError(`${source}: its centred ${o.kernel} Gram matrix is 0, so CKA is 0/0`,
      o.kernel === 'rbf' ? 'the RBF bandwidth is too small or too large for these features; change sigma' : 'check the features');
  }
  return { n, gram: k, norm, kernel: o.kernel, unbiased: o.unbiased, sigma, source };
}

/** HSIC of two centred Grams: <K_c, L_c> / (n - 1)^2, or the unbiased <K_u, L_u> / (n (n - 3)). */
export function hsic(a: CenteredGram, b: CenteredGram): number {
  sameSetting(a, b);
  const n = a.n;
  return dotCompensated(a.gram, b.gram) / (a.unbiased ? n * (n - 3) : (n - 1) * (n - 1));
}

function sameSetting(a: CenteredGram, b: CenteredGram): void {
  if (a.n !== b.n) {
    throw new UserError(`CKA: ${a.source} has ${a.n} stimuli but ${b.source} has ${b.n}`, 'both representations must have one row per stimulus, the same stimuli in the same order');
  }
  if (a.unbiased !== b.unbiased) throw new Error('CKA: one Gram is U-centred (unbiased), the other is not');
}

/** CKA of two centred Grams: <K_c, L_c> / (||K_c|| ||L_c||). */
export function ckaFromGrams(a: CenteredGram, b: CenteredGram): number {
  sameSetting(a, b);
  if (a === b) return 1;
  return dotCompensated(a.gram, b.gram) / (a.norm * b.norm);
}

function result(a: CenteredGram, b: CenteredGram, options: CkaOptions): CkaResult {
  const out: CkaResult = { cka: ckaFromGrams(a, b), kernel: a.kernel, unbiased: a.unbiased, n: a.n };
  if (a.kernel === 'rbf') {
    if (options.sigmaAbsolute === undefined) out.sigma = options.sigma ?? CKA_DEFAULT_SIGMA;
    out.sigmaX = a.sigma; out.sigmaY = b.sigma;
  }
  return out;
}

function checkRows(x: FeatureMatrix, y: FeatureMatrix): void {
  if (x.n !== y.n) {
    throw new UserError(`CKA: ${x.name ?? 'X'} has ${x.n} rows (stimuli) but ${y.name ?? 'Y'} has ${y.n}`,
      'both feature matrices must have one row per stimulus, the same stimuli in the same order');
  }
}

/** CKA between two representations of the same stimuli (X: n x d1, Y: n x d2). */
export function cka(x: FeatureMatrix, y: FeatureMatrix, options: CkaOptions = {}): CkaResult {
  checkRows(x, y);
  return result(centeredGram(x, options), centeredGram(y, options), options);
}

/** CKA of each layer (in order) against one reference, e.g. the human embedding; its Gram is computed once. */
export function ckaLayers(layers: FeatureMatrix[], reference: FeatureMatrix, options: CkaOptions = {}): Array<CkaResult & { name: string }> {
  for (const l of layers) checkRows(l, reference);
  const ref = centeredGram(reference, options);
  return layers.map((l, i) => ({ name: l.name ?? `layer${i}`, ...result(centeredGram(l, options), ref, options) }));
}

export interface CkaMatrix {
  names: string[];
  /** [L, L] row-major, symmetric, diagonal 1. */
  matrix: Float64Array;
  kernel: CkaKernel;
  unbiased: boolean;
  /** RBF with a relative bandwidth: the fraction of the median distance. */
  sigma?: number;
  /** RBF: each layer's bandwidth in its feature units. */
  sigmas?: number[];
}

/** CKA between every pair of layers (or models) of the same stimuli: an L x L matrix. */
export function ckaMatrix(layers: FeatureMatrix[], options: CkaOptions = {}): CkaMatrix {
  if (layers.length === 0) throw new UserError('CKA: no feature matrices given');
  for (const l of layers) checkRows(l, layers[0]);
  const grams = layers.map((l) => centeredGram(l, options));
  const L = layers.length;
  const matrix = new Float64Array(L * L);
  for (let a = 0; a < L; a++) {
    matrix[a * L + a] = 1;
    for (let b = a + 1; b < L; b++) matrix[a * L + b] = matrix[b * L + a] = ckaFromGrams(grams[a], grams[b]);
  }
  const out: CkaMatrix = { names: layers.map((l, i) => l.name ?? `layer${i}`), matrix, kernel: grams[0].kernel, unbiased: grams[0].unbiased };
  if (grams[0].kernel === 'rbf') {
    if (options.sigmaAbsolute === undefined) out.sigma = options.sigma ?? CKA_DEFAULT_SIGMA;
    out.sigmas = grams.map((g) => g.sigma!);
  }
  return out;
}
