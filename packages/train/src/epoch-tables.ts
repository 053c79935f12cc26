import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import type { z } from 'zod';
import { writeFileAtomic } from './files.js';
import { metricsCsv, metricsTable, type MetricsRow } from './metrics.js';

/**
 * A per-epoch table beside metrics (layer_rsa, epoch_measures; formats in @lw/core's
 * formats/epoch-measures.ts): `{stem}.csv` and `{stem}.arrow` written as metrics' are (metricsCsv,
 * metricsTable with the format's integer columns), each atomically.
 */
export interface EpochTableFormat<Row extends MetricsRow> {
  stem: string;
  columns: readonly (keyof Row & string)[];
  intColumns: readonly (keyof Row & string)[];
  schema: z.ZodType<Row>;
}

/** Validates every row against the format's schema, then writes CSV and Arrow into `dir`. */
export function writeEpochTable<Row extends MetricsRow>(dir: string, format: EpochTableFormat<Row>, rows: Row[]): void {
  rows.forEach((row, i) => {
    const parsed = format.schema.safeParse(row);
    if (!parsed.success) throw new Error(`${format.stem} row ${i} (epoch ${String(row.epoch)}): ${parsed.error.message}`);
  });
  writeFileAtomic(join(dir, `${format.stem}.csv`), metricsCsv(format.columns, rows));
  writeFileAtomic(join(dir, `${format.stem}.arrow`), tableToIPC(metricsTable(format.columns, rows, format.intColumns), 'file'));
}

/** The rows of `{stem}.arrow` in `dir` (validated), or [] when there is none: a run resumed in place keeps its earlier rows. */
export function readEpochTable<Row extends MetricsRow>(dir: string, format: EpochTableFormat<Row>): Row[] {
  const file = join(dir, `${format.stem}.arrow`);
  if (!existsSync(file)) return [];
  return tableFromIPC(readFileSync(file)).toArray().map((r) => format.schema.parse((r as { toJSON(): unknown }).toJSON()));
}
