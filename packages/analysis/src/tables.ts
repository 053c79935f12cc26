import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Float64, Int32, Table, Utf8, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';

/** A column of an output table. `int`/`float` may hold null (written empty, or as `nullText`). */
export interface Column<R> {
  name: string;
  type: 'utf8' | 'int' | 'float';
  value: (row: R) => string | number | null;
  /** How null is written in the CSV (e.g. `NR`); empty by default. Arrow keeps a real null. */
  nullText?: string;
}

export interface OutputTable<R> {
  /** File stem: `effects` gives effects.csv and effects.arrow. */
  name: string;
  title: string;
  columns: Column<R>[];
  rows: R[];
}

/** Cell text as written in the CSV, before quoting: null (and NaN) becomes the column's `nullText`. */
function cellText(value: string | number | null, nullText: string): string {
  if (value === null || (typeof value === 'number' && Number.isNaN(value))) return nullText;
  return String(value);
}

function quote(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Header and rows as unquoted cell texts. */
export function toCells<R>(table: OutputTable<R>): string[][] {
  return [table.columns.map((c) => c.name), ...table.rows.map((row) => table.columns.map((c) => cellText(c.value(row), c.nullText ?? '')))];
}

export function toCsv<R>(table: OutputTable<R>): string {
  return toCells(table).map((line) => line.map(quote).join(',')).join('\n') + '\n';
}

export function toArrow<R>(table: OutputTable<R>): Uint8Array {
  const vectors: Record<string, Vector> = {};
  for (const c of table.columns) {
    const values = table.rows.map((r) => {
      const v = c.value(r);
      return typeof v === 'number' && Number.isNaN(v) ? null : v;
    });
    const type = c.type === 'utf8' ? new Utf8() : c.type === 'int' ? new Int32() : new Float64();
    vectors[c.name] = vectorFromArray(values as never[], type);
  }
  return tableToIPC(new Table(vectors), 'file');
}

/** A table in its two file forms, ready to write and to show; the row type is no longer needed. */
export interface MaterializedTable {
  name: string;
  title: string;
  /** Header first; the same texts as the CSV, unquoted. */
  cells: string[][];
  csv: string;
  arrow: Uint8Array;
}

export function materialize<R>(table: OutputTable<R>): MaterializedTable {
  return { name: table.name, title: table.title, cells: toCells(table), csv: toCsv(table), arrow: toArrow(table) };
}

/** Writes `<name>.csv` and `<name>.arrow` into `dir`; returns the file names. */
export function writeTable(dir: string, table: MaterializedTable): string[] {
  writeFileSync(join(dir, `${table.name}.csv`), table.csv);
  writeFileSync(join(dir, `${table.name}.arrow`), table.arrow);
  return [`${table.name}.csv`, `${table.name}.arrow`];
}
