/**
 * Ranks of a float64 vector without sorting index arrays through a JS comparator: sort a copy with
 * the native numeric TypedArray sort, then look each value up by binary search. NaN is rejected by
 * callers before ranking (a sorted copy with NaN has no consistent order).
 */

/** Index of the first element of sorted `a` that is not less than `v`. */
function lowerBound(a: Float64Array, v: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < v) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/**
 * 1-based ranks with ties given the average of the ranks they span (scipy.stats.rankdata 'average').
 * E.g. [10, 20, 20, 30] -> [1, 2.5, 2.5, 4].
 */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const sorted = Float64Array.from(values).sort();
  // meanRankAt[k]: the average rank of the tie group that sorted position k belongs to
  const meanRankAt = new Float64Array(n);
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && sorted[end] === sorted[start]) end++;
    const mean = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) meanRankAt[k] = mean;
    start = end;
  }
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; i++) ranks[i] = meanRankAt[lowerBound(sorted, values[i])];
  return ranks;
}

/** 0-based dense ranks (ties share one rank, no gaps) and the number of distinct values. */
export function denseRanks(values: ArrayLike<number>): { ranks: Int32Array; distinct: number } {
  const n = values.length;
  const sorted = Float64Array.from(values).sort();
  // groupAt[k]: the dense rank of sorted position k
  const groupAt = new Int32Array(n);
  let group = -1;
  for (let k = 0; k < n; k++) {
    if (k === 0 || sorted[k] !== sorted[k - 1]) group++;
    groupAt[k] = group;
  }
  const ranks = new Int32Array(n);
  for (let i = 0; i < n; i++) ranks[i] = groupAt[lowerBound(sorted, values[i])];
  return { ranks, distinct: group + 1 };
}
