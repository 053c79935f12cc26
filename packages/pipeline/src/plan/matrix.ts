import type { Matrix } from './schema.js';

/**
 * Matrix expansion: the cross product of every variable's values, in the order written, minus
 * `exclude` matches, plus `include` conditions. Pure; errors carry the matrix key they concern.
 */
export type Condition = Record<string, string | number | boolean>;

export class MatrixError extends Error {
  constructor(message: string, readonly path: (string | number)[], readonly hint: string) {
    super(message);
  }
}

export function parseRange(text: string, path: (string | number)[]): number[] {
  const m = /^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$/.exec(text);
  if (!m) throw new MatrixError(`bad range "${text}"`, path, 'an inclusive integer range is written "FIRST..LAST", e.g. "1..98"');
  const [first, last] = [Number(m[1]), Number(m[2])];
  if (last < first) throw new MatrixError(`empty range "${text}": ${last} < ${first}`, path, `write the smaller bound first, e.g. "${last}..${first}"`);
  if (last - first >= 100_000) throw new MatrixError(`range "${text}" has ${last - first + 1} values`, path, 'a matrix variable may have at most 100000 values');
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

export function expandMatrix(matrix: Matrix | undefined): Condition[] {
  if (!matrix) return [{}];
  const { include, exclude, ...axes } = matrix;
  const names = Object.keys(axes);
  let conditions: Condition[] = [{}];
  for (const name of names) {
    const spec = axes[name];
    const values = typeof spec === 'string' ? parseRange(spec, ['matrix', name]) : (spec as (string | number | boolean)[]);
    const seen = new Set<string>();
    values.forEach((v, i) => {
      const k = JSON.stringify(v);
      if (seen.has(k)) throw new MatrixError(`matrix variable "${name}" lists ${k} twice`, ['matrix', name, i], 'each value may appear once');
      seen.add(k);
    });
    conditions = conditions.flatMap((c) => values.map((v) => ({ ...c, [name]: v })));
  }
  if (names.length === 0) conditions = [];
  (exclude ?? []).forEach((ex, i) => {
    for (const k of Object.keys(ex)) {
      if (!names.includes(k)) throw new MatrixError(`exclude names "${k}", which is not a matrix variable`, ['matrix', 'exclude', i, k], `matrix variables here: ${names.join(', ') || '(none)'}`);
    }
    conditions = conditions.filter((c) => !Object.entries(ex).every(([k, v]) => c[k] === v));
  });
  (include ?? []).forEach((inc, i) => {
    const missing = names.filter((n) => !(n in inc));
    if (missing.length) throw new MatrixError(`include entry lacks ${missing.join(', ')}`, ['matrix', 'include', i], `give every matrix variable (${names.join(', ')})`);
    const extra = Object.keys(inc).filter((k) => !names.includes(k));
    if (names.length > 0 && extra.length) throw new MatrixError(`include entry names unknown variable ${extra.join(', ')}`, ['matrix', 'include', i], `matrix variables here: ${names.join(', ')}`);
    if (conditions.some((c) => conditionName(c) === conditionName(inc))) {
      throw new MatrixError(`include entry ${conditionName(inc)} is already in the matrix`, ['matrix', 'include', i], 'remove the duplicate condition');
    }
    conditions.push({ ...inc });
  });
  if (conditions.length === 0) throw new MatrixError('the matrix has no conditions left', ['matrix'], 'check exclude: it removed every combination');
  return conditions;
}

/** `type=image_noise,start=5`: stable, readable, used in task names and results paths. */
export function conditionName(c: Condition): string {
  return Object.entries(c)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');
}
