import type { Rng } from '@lw/core';

/**
 * A seeded train/val split of n items: the first floor(trainFraction * n) entries of a permutation
 * drawn from `rng` are train, the rest val (as torch's random_split does; THINGS: int(0.8 * 1806) = 1444).
 * Both index lists are returned sorted, so shards keep the source order.
 */
export function seededSplit(n: number, trainFraction: number, rng: Rng): { train: Int32Array; val: Int32Array } {
  const perm = rng.permutation(n);
  const nTrain = Math.floor(trainFraction * n + 1e-9);
  return { train: perm.slice(0, nTrain).sort(), val: perm.slice(nTrain).sort() };
}
