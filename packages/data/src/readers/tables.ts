import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { readMat, readNpy, UserError } from '@lw/core';
import { readHumanRdm } from '../human-rdm.js';

/** Readers for the THINGS behavioural files, each failing with the file, line and item it stopped at. */

function lines(file: string): string[] {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) { throw new UserError(`${file}: cannot read (${(e as Error).message})`); }
  return text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l, i, all) => l.length > 0 || i < all.length - 1);
}

/** A one-column name list (`image_name` header optional), e.g. things1854_image_names.csv. */
export function readNameList(file: string): string[] {
  const rows = lines(file).filter((l) => l.trim().length > 0);
  const names = rows[0]?.trim() === 'image_name' ? rows.slice(1) : rows;
  return names.map((n) => n.trim());
}

export interface Embedding { names: string[]; dim: number; /** [n, dim] */ values: Float64Array; rescaled: boolean }

function parseNumber(s: string, file: string, line: number, what: string): number {
  const v = Number(s);
  if (s.trim() === '' || !Number.isFinite(v)) throw new UserError(`${file}:${line}: ${what} "${s}" is not a number`);
  return v;
}

/**
 * The SPoSE embedding, either the rescaled CSV (`,image_name,0..65`, the study's file) or Hebart's
 * original whitespace-separated `spose_embedding_66d_sorted.txt` (no names: `names` must be given;
 * it is rescaled globally to [0, 100] as the study did).
 */
export function readEmbedding(file: string, names?: string[], dim = 66): Embedding {
  const rows = lines(file).filter((l) => l.trim().length > 0);
  const header = rows[0]?.split(',') ?? [];
  if (header[1]?.trim() === 'image_name') {
    if (header.length !== dim + 2) throw new UserError(`${file}:1: header has ${header.length - 2} dimension columns, expected ${dim}`, 'the layout is `,image_name,0,...,65`');
    const out: string[] = [];
    const values = new Float64Array((rows.length - 1) * dim);
    rows.slice(1).forEach((row, r) => {
      const cells = row.split(',');
      if (cells.length !== dim + 2) throw new UserError(`${file}:${r + 2}: ${cells.length - 2} values for ${cells[1] ?? '?'}, expected ${dim}`);
      out.push(cells[1].trim());
      for (let k = 0; k < dim; k++) values[r * dim + k] = parseNumber(cells[k + 2], file, r + 2, `dimension ${k} of ${cells[1]}`);
    });
    if (names) checkNames(out, names, file);
    return { names: out, dim, values, rescaled: true };
  }
  if (!names) throw new UserError(`${file}: a whitespace-separated embedding has no image names`, 'pass the name list too (--names things1854_image_names.csv)');
  if (rows.length !== names.length) throw new UserError(`${file}: ${rows.length} embedding rows but ${names.length} names`, 'the name list must have one name per embedding row, in the same order');
  const values = new Float64Array(rows.length * dim);
  rows.forEach((row, r) => {
    const cells = row.trim().split(/\s+/);
    if (cells.length !== dim) throw new UserError(`${file}:${r + 1}: ${cells.length} values for ${names[r]}, expected ${dim}`);
    cells.forEach((c, k) => { values[r * dim + k] = parseNumber(c, file, r + 1, `dimension ${k} of ${names[r]}`); });
  });
  // the study's rescaling: (x - global min) / (global max - global min) * 100
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  for (let i = 0; i < values.length; i++) values[i] = ((values[i] - lo) / (hi - lo)) * 100;
  return { names: [...names], dim, values, rescaled: false };
}

function checkNames(got: string[], want: string[], file: string): void {
  if (got.length !== want.length) throw new UserError(`${file}: ${got.length} embedding rows but ${want.length} names in the name list`);
  got.forEach((g, i) => {
    if (g !== want[i]) throw new UserError(`${file}:${i + 2}: row ${i} is "${g}" but the name list has "${want[i]}"`, 'embedding rows must follow the name list order');
  });
}

/**
 * The test items in RDM order, as indices into the full list: `triplet48_index.npy`, or the reordered
 * CSV (`spose_embedding66d_rescaled_48val_reordered.csv`: index column, then image_name).
 */
export function readTestIndex(file: string, names: string[]): number[] {
  let idx: number[];
  if (extname(file).toLowerCase() === '.npy') {
    idx = Array.from(readNpy(readFileSync(file), file).data);
  } else {
    const rows = lines(file).filter((l) => l.trim().length > 0);
    idx = rows.slice(1).map((row, r) => {
      const [i, name] = row.split(',');
      const v = parseNumber(i, file, r + 2, 'index');
      if (name !== undefined && names[v] !== name.trim()) throw new UserError(`${file}:${r + 2}: index ${v} is "${names[v]}" in the name list, but this row names "${name.trim()}"`);
      return v;
    });
  }
  const seen = new Set<number>();
  idx.forEach((v, r) => {
    if (!Number.isInteger(v) || v < 0 || v >= names.length) throw new UserError(`${file}: test item ${r} has index ${v}, outside 0..${names.length - 1}`);
    if (seen.has(v)) throw new UserError(`${file}: test item ${r} (${names[v]}) is listed twice`);
    seen.add(v);
  });
  return idx;
}

/** A square RDM from .mat (the only / the named 2-D numeric variable), .npy, .csv (numbers only) or .arrow. */
export function readRdmMatrix(file: string, variable?: string): { n: number; values: Float64Array } {
  const ext = extname(file).toLowerCase();
  let rows: number, cols: number, values: Float64Array;
  if (ext === '.mat') {
    const mats = readMat(readFileSync(file), file).filter((m) => m.data !== null && m.dims.length === 2 && (variable === undefined || m.name === variable));
    if (mats.length !== 1) {
      throw new UserError(`${file}: ${mats.length === 0 ? 'no' : 'more than one'} 2-D numeric variable${variable ? ` named "${variable}"` : ''}`, 'name the variable (e.g. RDM48_triplet)');
    }
    [rows, cols] = mats[0].dims;
    values = mats[0].data!;
  } else if (ext === '.npy') {
    const a = readNpy(readFileSync(file), file);
    if (a.shape.length !== 2) throw new UserError(`${file}: array of shape (${a.shape.join(', ')}), expected a 2-D matrix`);
    [rows, cols] = a.shape;
    values = a.data;
  } else if (ext === '.arrow') {
    const r = readHumanRdm(file);
    return { n: r.n, values: r.values };
  } else {
    const ls = lines(file).filter((l) => l.trim().length > 0);
    const parsed = ls.map((l, i) => l.split(/[,\s]+/).filter(Boolean).map((c) => parseNumber(c, file, i + 1, 'RDM entry')));
    rows = parsed.length;
    cols = parsed[0]?.length ?? 0;
    parsed.forEach((p, i) => { if (p.length !== cols) throw new UserError(`${file}:${i + 1}: ${p.length} entries, row 1 has ${cols}`, 'the RDM must be a square matrix'); });
    values = Float64Array.from(parsed.flat());
  }
  if (rows !== cols) throw new UserError(`${file}: RDM is ${rows}x${cols}, not square`);
  return { n: rows, values };
}
