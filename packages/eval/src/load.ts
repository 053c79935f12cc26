import { extname } from 'node:path';
import { readMat, readNpy, UserError } from '@lw/core';
import { readFeaturesArrow, readRdmArrow } from './arrow-io.js';
import { readInput } from './files.js';
import { parseCsv, parseNumber, type CsvRow } from './csv.js';
import { toHumanRdm, type HumanRdm } from './rsa.js';

/**
 * Loaders chosen by file extension: human RDMs from .mat (MATLAB v5), .npy, .csv and Arrow
 * (`human_rdm.arrow`); feature matrices from SPoSE-layout or plain numeric .csv, Arrow and .npy.
 */

export interface LoadedFeatures {
  /** [n, d] row-major */
  features: Float64Array;
  n: number;
  d: number;
  ids?: string[];
}

const ARROW = new Set(['.arrow', '.feather', '.ipc', '.arrows']);

/** Columns that name stimuli rather than hold numbers. */
const ID_COLUMNS = new Set(['id', 'image_name', 'image', 'name', 'stimulus']);

/**
 * A numeric table from CSV. A first row with any non-numeric cell is a header. With a header, an
 * empty-named first column (a pandas index) is skipped and a column named id/image_name/... gives
 * the row ids; every other cell must be a number.
 */
function numericCsv(path: string): { values: Float64Array; rows: number; cols: number; ids?: string[]; names?: string[] } {
  const rows = parseCsv(readInput(path).toString('utf8'));
  if (rows.length === 0) throw new UserError(`${path}: the file is empty`, 'expected rows of comma-separated numbers');
  const first = rows[0].cells;
  const hasHeader = first.some((c) => parseNumber(c) === null);
  const header = hasHeader ? first.map((c) => c.trim()) : undefined;
  const body: CsvRow[] = hasHeader ? rows.slice(1) : rows;
  const width = first.length;
  let idCol = -1;
  const numericCols: number[] = [];
  for (let c = 0; c < width; c++) {
    const name = header?.[c];
    if (name !== undefined && c === 0 && name === '') continue;
    if (name !== undefined && ID_COLUMNS.has(name.toLowerCase()) && idCol < 0) { idCol = c; continue; }
    numericCols.push(c);
  }
  const values = new Float64Array(body.length * numericCols.length);
  const ids: string[] = [];
  body.forEach((row, r) => {
    if (row.cells.length !== width) {
      throw new UserError(`${path}: line ${row.line} has ${row.cells.length} fields, the ${hasHeader ? 'header' : 'first line'} has ${width}`,
        'every line must have the same number of comma-separated fields');
    }
    if (idCol >= 0) ids.push(row.cells[idCol].trim());
    numericCols.forEach((c, k) => {
      const v = parseNumber(row.cells[c]);
      if (v === null) {
        const name = header ? ` ("${header[c]}")` : '';
        throw new UserError(`${path}: line ${row.line}, column ${c + 1}${name}: "${row.cells[c]}" is not a number`,
          'every value outside the header and the id column must be a number');
      }
      values[r * numericCols.length + k] = v;
    });
  });
  const names = header ? numericCols.map((c) => header[c]) : undefined;
  return { values, rows: body.length, cols: numericCols.length, ids: idCol >= 0 ? ids : undefined, names };
}

function matrixFromNpy(path: string): { values: Float64Array; rows: number; cols: number } {
  const { shape, data } = readNpy(readInput(path), path);
  if (shape.length !== 2) throw new UserError(`${path}: array of shape (${shape.join(', ')}) is not 2-D`, 'expected an [n, d] or [n, n] array');
  return { values: data, rows: shape[0], cols: shape[1] };
}

/** A feature matrix [n, d] with optional stimulus ids. */
export function loadFeatures(path: string): LoadedFeatures {
  const ext = extname(path).toLowerCase();
  if (ARROW.has(ext)) return readFeaturesArrow(path);
  if (ext === '.npy') {
    const { values, rows, cols } = matrixFromNpy(path);
    return { features: values, n: rows, d: cols };
  }
  if (ext === '.csv' || ext === '.txt') {
    const { values, rows, cols, ids } = numericCsv(path);
    if (rows === 0 || cols === 0) throw new UserError(`${path}: no numeric rows or columns`, 'expected one row of numbers per stimulus');
    return { features: values, n: rows, d: cols, ids };
  }
  throw new UserError(`${path}: unknown feature file type "${ext}"`, 'use .csv (SPoSE layout or plain numbers), .arrow (column "features") or .npy');
}

export interface LoadRdmOptions {
  /** Variable name inside a .mat file; default: the only 2-D numeric variable. */
  variable?: string;
}

function matVariable(path: string, variable?: string): { values: Float64Array; rows: number; cols: number } {
  const arrays = readMat(readInput(path), path);
  const listing = arrays.map((a) => `${a.name} (${a.className} ${a.dims.join('x')})`).join(', ') || 'none';
  const candidates = variable ? arrays.filter((a) => a.name === variable) : arrays.filter((a) => a.data !== null && a.className !== 'char');
  if (candidates.length === 0) {
    throw new UserError(`${path}: ${variable ? `no variable "${variable}"` : 'no numeric 2-D variable'}; variables: ${listing}`,
      variable ? 'pick one of the variables listed' : 'expected a numeric n x n matrix');
  }
  if (candidates.length > 1) throw new UserError(`${path}: several numeric variables (${listing})`, 'name the one to use (variable option)');
  const a = candidates[0];
  if (!a.data) throw new UserError(`${path}: variable "${a.name}" is ${a.className} ${a.dims.join('x')}, not a numeric 2-D matrix`);
  return { values: a.data, rows: a.dims[0], cols: a.dims[1] };
}

/**
 * A validated human RDM from .mat, .npy, .csv (n x n numbers; an optional header row and id column
 * give stimulus ids) or Arrow (`human_rdm.arrow`). Errors name the file and the offending cell.
 */
export function loadHumanRdm(path: string, options: LoadRdmOptions = {}): HumanRdm {
  const ext = extname(path).toLowerCase();
  let m: { values: Float64Array; rows: number; cols: number; ids?: string[] };
  if (ARROW.has(ext)) {
    const { full, n, ids } = readRdmArrow(path);
    m = { values: full, rows: n, cols: n, ids };
  } else if (ext === '.mat') m = matVariable(path, options.variable);
  else if (ext === '.npy') m = matrixFromNpy(path);
  else if (ext === '.csv' || ext === '.txt') {
    const csv = numericCsv(path);
    // Row ids from an id column, else column names from the header (an RDM's columns are its stimuli).
    const ids = csv.ids ?? csv.names;
    m = { values: csv.values, rows: csv.rows, cols: csv.cols, ids };
  } else {
    throw new UserError(`${path}: unknown RDM file type "${ext}"`, 'use .mat (MATLAB v5), .npy, .csv or .arrow (human_rdm.arrow)');
  }
  if (m.rows !== m.cols || m.rows < 2) {
    throw new UserError(`${path}: an RDM must be square, got ${m.rows} x ${m.cols}`, 'give an n x n matrix of dissimilarities, n >= 2');
  }
  return toHumanRdm(m.values, path, m.ids);
}
