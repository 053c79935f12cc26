import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Float64, Int32, Table, Utf8, tableFromIPC, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';
import type { z } from 'zod';
import { writeFileAtomic } from './files.js';
import { metricsCsv, type MetricsRow } from './metrics.js';

/**
 * A per-epoch table beside metrics (layer_rsa, epoch_measures; formats in @lw/core's
 * formats/epoch-measures.ts): `{stem}.csv` with metrics' number formatting and `{stem}.arrow`
 * (integer columns Int32, other numbers Float64, text Utf8), each written atomically.
 */
export interface EpochTableFormat<Row extends MetricsRow> {
  stem: string;
  columns: readonly (keyof Row & string)[];
  intColumns: readonly (keyof Row & string)[];
  schema: z.ZodType<Row>;
}

export function epochTable<Row extends MetricsRow>(format: EpochTableFormat<Row>, rows: Row[]): Table {
  const vectors: Record<string, Vector> = {};
  for (const c of format.columns) {
    const values = rows.map((r) => r[c]);
    if ((format.intColumns as readonly string[]).includes(c)) vectors[c] = vectorFromArray(values as number[], new Int32());
    else if (typeof values[0] === 'string') vectors[c] = vectorFromArray(values as string[], new Utf8());
    else vectors[c] = vectorFromArray(values as number[], new Float64());
  }
  return new Table(vectors);
}

/** Validates every row against the format's schema, then writes CSV and Arrow into `dir`. */
export function writeEpochTable<Row extends MetricsRow>(dir: string, format: EpochTableFormat<Row>, rows: Row[]): void {
  rows.forEach((row, i) => {
    const parsed = format.schema.safeParse(row);
    if (!parsed.success) throw new Error(`${format.stem} row ${i} (epoch ${String(row.epoch)}): ${parsed.error.message}`);
  });
  writeFileAtomic(join(dir, `${format.stem}.csv`), metricsCsv(format.columns, rows));
  writeFileAtomic(join(dir, `${format.stem}.arrow`), tableToIPC(epochTable(format, rows), 'file'));
}

/** The rows of `{stem}.arrow` in `dir` (validated), or [] when there is none: a run resumed in place keeps its earlier rows. */
export function readEpochTable<Row extends MetricsRow>(dir: string, format: EpochTableFormat<Row>): Row[] {
  const file = join(dir, `${format.stem}.arrow`);
  if (!existsSync(file)) return [];
  return tableFromIPC(readFileSync(file)).toArray().map((r) => format.schema.parse((r as { toJSON(): unknown }).toJSON()));
}
