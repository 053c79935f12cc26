import { studentTQuantile } from './student-t.js';

/** Mean of a sample with a two-sided 95% CI from the t distribution (df = n − 1); no CI for n < 2. */
export interface MeanCI {
  n: number;
  mean: number;
  ci_low: number | null;
  ci_high: number | null;
}

export function meanCI(values: number[], level = 0.95): MeanCI {
  const n = values.length;
  if (n === 0) return { n, mean: NaN, ci_low: null, ci_high: null };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { n, mean, ci_low: null, ci_high: null };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  const half = studentTQuantile(1 - (1 - level) / 2, n - 1) * Math.sqrt(variance / n);
  return { n, mean, ci_low: mean - half, ci_high: mean + half };
}

/** Groups items by the JSON of `key(item)`, in first-seen order. */
export function groupBy<T, K>(items: T[], key: (item: T) => K): Array<{ key: K; items: T[] }> {
  const groups = new Map<string, { key: K; items: T[] }>();
  for (const item of items) {
    const k = key(item);
    const id = JSON.stringify(k);
    const group = groups.get(id) ?? { key: k, items: [] };
    group.items.push(item);
    groups.set(id, group);
  }
  return [...groups.values()];
}
