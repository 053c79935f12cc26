import { Bool, Float64, Int32, Table, Utf8, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';
import { writeFileAtomic } from './files.js';
import { join } from 'node:path';

/**
 * Per-epoch metrics tables: `metrics.csv` in the study's column layout and `metrics.arrow` with the
 * same columns (epoch Int32, numbers Float64, flags Bool, text Utf8). The columns of each stage are
 * @lw/core's (formats/metrics.ts: behaviorMetricsColumns, classifyMetricsColumns, measureMetricsColumns),
 * which the analysis reads by.
 */
export type MetricValue = number | boolean | string;
export type MetricsRow = Record<string, MetricValue>;

/** One CSV cell: shortest round-trip decimal for numbers (as pandas writes floats), Python's True/False. */
function csvCell(v: MetricValue): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? 'inf' : v < 0 ? '-inf' : 'nan';
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function metricsCsv(columns: readonly string[], rows: MetricsRow[]): string {
  const lines = [columns.join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvCell(row[c])).join(','));
  return lines.join('\n') + '\n';
}

/** The Arrow table of `rows`: `intColumns` Int32 (metrics: epoch, perturb_epoch), other numbers Float64, flags Bool, text Utf8. */
export function metricsTable(columns: readonly string[], rows: MetricsRow[], intColumns: readonly string[] = ['epoch', 'perturb_epoch']): Table {
  const vectors: Record<string, Vector> = {};
  for (const c of columns) {
    const values = rows.map((r) => r[c]);
    const first = values.find((v) => v !== undefined);
    if (intColumns.includes(c)) vectors[c] = vectorFromArray(values as number[], new Int32());
    else if (typeof first === 'boolean') vectors[c] = vectorFromArray(values as boolean[], new Bool());
    else if (typeof first === 'string') vectors[c] = vectorFromArray(values as string[], new Utf8());
    else vectors[c] = vectorFromArray(values as number[], new Float64());
  }
  return new Table(vectors);
}

/** Write `metrics.csv` and `metrics.arrow` into `dir`, each atomically. */
export function writeMetrics(dir: string, columns: readonly string[], rows: MetricsRow[]): void {
  for (const row of rows) {
    const missing = columns.filter((c) => row[c] === undefined);
    if (missing.length) throw new Error(`metrics row for epoch ${row.epoch} lacks ${missing.join(', ')}`);
  }
  writeFileAtomic(join(dir, 'metrics.csv'), metricsCsv(columns, rows));
  writeFileAtomic(join(dir, 'metrics.arrow'), tableToIPC(metricsTable(columns, rows), 'file'));
}
