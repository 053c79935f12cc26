import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PerturbationKind, UserError, classifyMetricsColumns, perturbationFlagColumns, studyMetricsColumns } from '@lw/core';

/**
 * One epoch of a training run, in one shape for every source: the study's CSVs (5/7/8/9 columns),
 * our `train/behavior` tables (same 9 columns) and our `train/classify` tables (val_loss plays the
 * role of test_loss, as in the study's ViT arm). The column layouts are @lw/core's (formats/metrics.ts).
 */
export const EpochRow = z.object({
  epoch: z.number().int().min(0),
  train_loss: z.number(),
  test_loss: z.number(),
  rsa: z.number(),
  rsa_p: z.number().nullable(),
  /** The perturbation that was active this epoch, read from the study's flags; null when none or unknown. */
  perturbed: PerturbationKind.nullable(),
});
export type EpochRow = z.infer<typeof EpochRow>;

/** A run's rows, in epoch order, with the file they came from (named in every error). */
export interface MetricsTable {
  file: string;
  rows: EpochRow[];
}

type Layout =
  | { kind: 'study'; flags: number }
  | { kind: 'classify'; extra: string[] };

function detectLayout(header: string[], file: string): Layout {
  const startsWith = (cols: readonly string[]) => cols.every((c, i) => header[i] === c);
  if (startsWith(studyMetricsColumns)) {
    const flags = header.length - studyMetricsColumns.length;
    const expected = perturbationFlagColumns.slice(0, flags).map(([name]) => name);
    if (flags <= perturbationFlagColumns.length && startsWith([...studyMetricsColumns, ...expected])) return { kind: 'study', flags };
  }
  if (startsWith(classifyMetricsColumns)) return { kind: 'classify', extra: header.slice(classifyMetricsColumns.length) };
  throw new UserError(
    `${file}:1: unrecognised metrics header "${header.join(',')}"`,
    `expected "${studyMetricsColumns.join(',')}" optionally followed by ${perturbationFlagColumns.map(([n]) => n).join(',')} ` +
      `(5, 7, 8 or 9 columns), or "${classifyMetricsColumns.join(',')}[,...]"`,
  );
}

function parseNumber(text: string, where: string, column: string): number {
  const value = Number(text);
  if (text.trim() === '' || Number.isNaN(value)) {
    throw new UserError(`${where}: column ${column} is "${text}", not a number`, 'every metric must be a decimal number');
  }
  return value;
}

function parseFlag(text: string, where: string, column: string): boolean {
  if (text === 'True') return true;
  if (text === 'False') return false;
  throw new UserError(`${where}: column ${column} is "${text}"`, 'flags are written True or False');
}

/** Parses a per-epoch metrics CSV in any supported layout; every error names `file:line`. */
export function parseMetricsCsv(text: string, file: string): MetricsTable {
  const lines = text.split(/\r?\n/);
  if (lines[0] === undefined || lines[0].trim() === '') throw new UserError(`${file}: empty metrics file`, 'expected a CSV header line');
  const header = lines[0].split(',').map((h) => h.trim());
  const layout = detectLayout(header, file);
  const rows: EpochRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const where = `${file}:${i + 1}`;
    const cells = line.split(',');
    if (cells.length !== header.length) {
      throw new UserError(`${where}: ${cells.length} fields, the header has ${header.length}`, 'every row needs one value per header column');
    }
    const num = (index: number) => parseNumber(cells[index]!, where, header[index]!);
    if (layout.kind === 'study') {
      let perturbed: EpochRow['perturbed'] = null;
      for (let f = 0; f < layout.flags; f++) {
        if (parseFlag(cells[studyMetricsColumns.length + f]!, where, perturbationFlagColumns[f]![0])) perturbed = perturbationFlagColumns[f]![1];
      }
      rows.push({ epoch: num(0), train_loss: num(1), test_loss: num(2), rsa: num(3), rsa_p: num(4), perturbed });
    } else {
      rows.push({ epoch: num(0), train_loss: num(1), test_loss: num(2), rsa: num(4), rsa_p: num(5), perturbed: null });
    }
    const parsed = EpochRow.safeParse(rows[rows.length - 1]);
    if (!parsed.success) throw new UserError(`${where}: ${parsed.error.issues[0]!.message}`, 'epoch must be a non-negative integer');
  }
  return checkOrder({ file, rows });
}

/** Epochs must increase strictly: a repeated or shuffled epoch means a damaged or concatenated file. */
function checkOrder(table: MetricsTable): MetricsTable {
  if (table.rows.length === 0) throw new UserError(`${table.file}: no data rows`, 'a run needs at least one epoch');
  for (let i = 1; i < table.rows.length; i++) {
    if (table.rows[i]!.epoch <= table.rows[i - 1]!.epoch) {
      throw new UserError(
        `${table.file}:${i + 2}: epoch ${table.rows[i]!.epoch} follows epoch ${table.rows[i - 1]!.epoch}`,
        'rows must be in increasing epoch order, one per epoch',
      );
    }
  }
  return table;
}

export function readMetricsCsv(file: string): MetricsTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`${file}: cannot read metrics (${(e as NodeJS.ErrnoException).code ?? String(e)})`, 'check the path', { cause: e });
  }
  return parseMetricsCsv(text, file);
}

/** The row of `epoch`, if the table has one. */
export function rowAt(table: MetricsTable, epoch: number): EpochRow | undefined {
  return table.rows.find((r) => r.epoch === epoch);
}
