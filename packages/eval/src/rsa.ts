import { UserError } from '@lw/core';
import { averageRanks } from './ranks.js';
import { correlate, pearsonR, type CompareMethod } from './correlation.js';
import { bootstrapCi, permutationPValue } from './inference.js';
import { pairCount, pairwiseDissimilarities, sizeOfRdm, upperTriangle, validateRdm, type Metric } from './rdm.js';
import { studentTPValue } from './special.js';

/**
 * Representational similarity analysis of a model's features against a human RDM (method §5): model
 * RDM from the features, upper triangles of both, then a correlation. Defaults are the study's:
 * 1 - Pearson RDM, Spearman with average ranks, two-sided Student-t p (df = n_pairs - 2), no
 * permutation test. Cheap enough to run every epoch: the human RDM's ranks are computed once per
 * HumanRdm and reused.
 */

/** A validated human RDM: its upper triangle (row-major i < j) and, when known, stimulus ids in RDM order. */
export interface HumanRdm {
  n: number;
  /** [n(n-1)/2] */
  upper: Float64Array;
  ids?: string[];
  /** Where it came from, for error messages. */
  source: string;
}

export interface RsaOptions {
  /** Model RDM dissimilarity; default 'correlation' (1 - Pearson, the study's). */
  metric?: Metric;
  /** How the two RDMs are compared; default 'spearman'. */
  compare?: CompareMethod;
  /** Stimulus permutations for a permutation p-value; default 0 (none, as in the study). */
  permutations?: number;
  /** Bootstrap resamples of stimuli for a confidence interval; default 0 (none). */
  bootstrap?: number;
  /** Confidence level of the bootstrap interval; default 0.95. */
  ciLevel?: number;
  /** Seed of the permutation and bootstrap streams; default 0. */
  seed?: number;
}

export interface RsaResult {
  rho: number;
  /** Two-sided p: Student t for spearman/pearson, tie-corrected normal for kendall. */
  p: number;
  nPairs: number;
  pPerm?: number;
  ci?: [number, number];
}

/** Wraps an upper-triangle vector or a full n x n matrix (validated) as a HumanRdm. */
export function toHumanRdm(values: Float64Array, source = 'human RDM', ids?: string[]): HumanRdm {
  const size = sizeOfRdm(values.length);
  if (!size) {
    throw new UserError(`${source}: ${values.length} values are neither an n x n matrix nor its upper triangle`,
      'give n*n values (full matrix) or n(n-1)/2 values (upper triangle, row-major i < j)');
  }
  if (size.square) {
    validateRdm(values, size.n, source);
    return { n: size.n, upper: upperTriangle(values, size.n), ids, source };
  }
  for (let p = 0; p < values.length; p++) {
    if (!Number.isFinite(values[p])) throw new UserError(`${source}: upper-triangle value ${p} is ${values[p]}`, 'dissimilarities must be finite');
  }
  return { n: size.n, upper: values, ids, source };
}

const rankCache = new WeakMap<Float64Array, Float64Array>();
function cachedRanks(v: Float64Array): Float64Array {
  let r = rankCache.get(v);
  if (!r) { r = averageRanks(v); rankCache.set(v, r); }
  return r;
}

/** Compares a model RDM's upper triangle with a human RDM, with the optional permutation and bootstrap inference. */
export function compareRdms(human: HumanRdm, modelUpper: Float64Array, options: RsaOptions = {}): RsaResult {
  const { compare = 'spearman', permutations = 0, bootstrap = 0, seed = 0, ciLevel = 0.95 } = options;
  const nPairs = pairCount(human.n);
  if (modelUpper.length !== nPairs) throw new RangeError(`model RDM has ${modelUpper.length} pairs, human RDM ${nPairs}`);
  if (modelUpper.some(Number.isNaN)) {
    // A constant feature row (e.g. a collapsed model) has no correlation distance: report NaN, as SciPy would.
    return { rho: NaN, p: NaN, nPairs };
  }
  let rho: number, p: number;
  if (compare === 'spearman') {
    rho = pearsonR(cachedRanks(human.upper), averageRanks(modelUpper));
    p = studentTPValue(rho, nPairs);
  } else {
    ({ r: rho, p } = correlate(human.upper, modelUpper, compare));
  }
  const result: RsaResult = { rho, p, nPairs };
  if (permutations > 0) result.pPerm = permutationPValue(human.upper, modelUpper, human.n, compare, rho, { permutations, seed });
  if (bootstrap > 0) result.ci = bootstrapCi(human.upper, modelUpper, human.n, compare, { samples: bootstrap, seed, level: ciLevel });
  return result;
}

/**
 * RSA of a feature matrix [n, d] (row i = stimulus i of the human RDM's order; e.g. the 48 x 66
 * predictions of CLIP-HBA, or 48 x 768 CLS tokens of a ViT) against a human RDM.
 */
export function rsa(
  features: Float32Array | Float64Array, n: number, d: number,
  humanRdm: HumanRdm | Float64Array, options: RsaOptions = {},
): RsaResult {
  const human = humanRdm instanceof Float64Array ? toHumanRdm(humanRdm) : humanRdm;
  if (human.n !== n) throw new RangeError(`features have ${n} stimuli but the human RDM (${human.source}) has ${human.n}`);
  return compareRdms(human, pairwiseDissimilarities(features, n, d, options.metric ?? 'correlation'), options);
}

export interface LayerFeatures { name: string; features: Float32Array | Float64Array; n: number; d: number; }

/** Layer-wise RSA (e.g. one score per block's CLS token), in the order given. */
export function rsaLayers(
  layers: LayerFeatures[], humanRdm: HumanRdm | Float64Array, options: RsaOptions = {},
): Array<RsaResult & { name: string }> {
  const human = humanRdm instanceof Float64Array ? toHumanRdm(humanRdm) : humanRdm;
  return layers.map((l) => ({ name: l.name, ...rsa(l.features, l.n, l.d, human, options) }));
}
