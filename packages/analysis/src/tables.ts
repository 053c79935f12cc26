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

function csvCell(value: string | number | null, nullText: string): string {
  if (value === null || (typeof value === 'number' && Number.isNaN(value))) return nullText;
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv<R>(table: OutputTable<R>): string {
  const lines = [table.columns.map((c) => c.name).join(',')];
  for (const row of table.rows) lines.push(table.columns.map((c) => csvCell(c.value(row), c.nullText ?? '')).join(','));
  return lines.join('\n') + '\n';
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

/** Writes `<name>.csv` and `<name>.arrow` into `dir`; returns the file names. */
export function writeTable<R>(dir: string, table: OutputTable<R>): string[] {
  writeFileSync(join(dir, `${table.name}.csv`), toCsv(table));
  writeFileSync(join(dir, `${table.name}.arrow`), toArrow(table));
  return [`${table.name}.csv`, `${table.name}.arrow`];
}
