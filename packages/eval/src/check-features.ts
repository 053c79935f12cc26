import { UserError } from '@lw/core';
import type { Metric } from './rdm.js';

/**
 * Features read from a file, checked before RSA: a NaN or infinite value, or a row the metric
 * cannot measure (constant for 1 - Pearson, all zeros for cosine), makes the whole model RDM NaN
 * and rho NaN. `rsa()` keeps returning NaN then (training logs a collapsed model's epoch that
 * way); a file given to `lw rsa` or to the eval/rsa stage is an input error, so it is named here
 * with the stimulus and what is wrong.
 */
export function checkFeatures(
  features: ArrayLike<number>, n: number, d: number, metric: Metric, source: string, ids?: string[],
): void {
  const item = (i: number) => `row ${i + 1} of ${n}${ids?.[i] !== undefined ? ` (${ids[i]})` : ''}`;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let k = 0; k < d; k++) {
      const v = features[o + k];
      if (!Number.isFinite(v)) {
        throw new UserError(`${source}: ${item(i)} has ${v} at feature ${k + 1} of ${d}`, 'every feature must be a finite number; a NaN usually means the model diverged');
      }
    }
    let constant = true, zero = true;
    for (let k = 0; k < d; k++) {
      if (features[o + k] !== features[o]) constant = false;
      if (features[o + k] !== 0) zero = false;
    }
    if (metric === 'correlation' && constant) {
      throw new UserError(`${source}: ${item(i)} is constant (every feature is ${features[o]}), so its correlation distance (1 - Pearson) to the other rows is undefined`,
        'a collapsed model gives constant rows; compare with --metric euclidean, or check the features');
    }
    if (metric === 'cosine' && zero) {
      throw new UserError(`${source}: ${item(i)} is all zeros, so its cosine distance to the other rows is undefined`,
        'a collapsed model gives zero rows; compare with --metric euclidean, or check the features');
    }
  }
}
