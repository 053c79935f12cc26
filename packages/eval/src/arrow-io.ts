import { writeFileSync } from 'node:fs';
import {
  Field, FixedSizeList, Float32, Float64, Table, Utf8, makeData, makeVector, tableFromIPC, tableToIPC, vectorFromArray,
  type Vector,
} from 'apache-arrow';
import { UserError } from '@lw/core';
import { readInput } from './files.js';

/**
 * Arrow IPC files of the shared conventions: feature tables (`id` utf8, `features`
 * FixedSizeList<Float32|Float64>[d], rows in RDM order) and human RDMs (`id` utf8, `rdm`
 * FixedSizeList<Float64>[n], row i = row i of the RDM).
 */

function readTable(path: string): Table {
  const bytes = readInput(path);
  try {
    return tableFromIPC(bytes);
  } catch (e) {
    throw new UserError(`${path}: not an Arrow IPC file (${(e as Error).message})`, 'expected an Arrow IPC file or stream');
  }
}

/** Rows of a FixedSizeList column as one row-major float64 matrix [rows, width]. */
function fixedListRows(table: Table, column: string, path: string): { values: Float64Array; rows: number; width: number } {
  const vec = table.getChild(column);
  if (!vec) {
    throw new UserError(`${path}: no column "${column}" (columns: ${table.schema.fields.map((f) => f.name).join(', ')})`,
      `expected a FixedSizeList column "${column}"`);
  }
  if (!(vec.type instanceof FixedSizeList)) {
    throw new UserError(`${path}: column "${column}" is ${String(vec.type)}, not a FixedSizeList`, `write "${column}" as FixedSizeList<Float32|Float64>[width]`);
  }
  const width = vec.type.listSize, rows = vec.length;
  const values = new Float64Array(rows * width);
  for (let i = 0; i < rows; i++) {
    const row = vec.get(i) as Vector | null;
    if (row === null) throw new UserError(`${path}: column "${column}" row ${i} is null`);
    values.set(row.toArray() as ArrayLike<number>, i * width);
  }
  return { values, rows, width };
}

function idColumn(table: Table): string[] | undefined {
  const vec = table.getChild('id');
  return vec ? Array.from({ length: vec.length }, (_, i) => String(vec.get(i))) : undefined;
}

/** A FixedSizeList column of an Arrow file as a float64 matrix [rows, width], with the file's `id` column. */
export function readListColumnArrow(path: string, column: string): { values: Float64Array; rows: number; width: number; ids?: string[] } {
  const table = readTable(path);
  return { ...fixedListRows(table, column, path), ids: idColumn(table) };
}

export function readFeaturesArrow(path: string): { features: Float64Array; n: number; d: number; ids?: string[] } {
  const table = readTable(path);
  const { values, rows, width } = fixedListRows(table, 'features', path);
  return { features: values, n: rows, d: width, ids: idColumn(table) };
}

export function readRdmArrow(path: string): { full: Float64Array; n: number; ids?: string[] } {
  const table = readTable(path);
  const { values, rows, width } = fixedListRows(table, 'rdm', path);
  if (rows !== width) throw new UserError(`${path}: human RDM has ${rows} rows of ${width} values`, 'an RDM must be square: n rows of n values');
  return { full: values, n: rows, ids: idColumn(table) };
}

/** A FixedSizeList vector of `rows` rows from row-major values. */
function fixedListVector(values: Float32Array | Float64Array, rows: number, width: number): Vector {
  const itemType = values instanceof Float32Array ? new Float32() : new Float64();
  const child = makeData({ type: itemType, length: rows * width, nullCount: 0, data: values });
  const type = new FixedSizeList(width, new Field('item', itemType, false));
  return makeVector(makeData({ type, length: rows, nullCount: 0, child }));
}

/** Writes an embeddings file: `id` utf8 and `features` FixedSizeList<Float32|Float64>[d]. */
export function writeFeaturesArrow(path: string, ids: string[], features: Float32Array | Float64Array, d: number): void {
  const table = new Table({ id: vectorFromArray(ids, new Utf8()), features: fixedListVector(features, ids.length, d) });
  writeFileSync(path, tableToIPC(table, 'file'));
}

/** Writes a `human_rdm.arrow`: `id` utf8 and `rdm` FixedSizeList<Float64>[n]. */
export function writeRdmArrow(path: string, ids: string[], full: Float64Array): void {
  const table = new Table({ id: vectorFromArray(ids, new Utf8()), rdm: fixedListVector(full, ids.length, ids.length) });
  writeFileSync(path, tableToIPC(table, 'file'));
}
