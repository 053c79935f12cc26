import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '@lw/core';

/**
 * One epoch of a training run, in one shape for every source: the study's CSVs (5/7/8/9 columns),
 * our `train/behavior` tables (same 9 columns) and our `train/classify` tables (val_loss plays the
 * role of test_loss, as in the study's ViT arm).
 */
export const EpochRow = z.object({
  epoch: z.number().int().min(0),
  train_loss: z.number(),
  test_loss: z.number(),
  rsa: z.number(),
  rsa_p: z.number().nullable(),
  /** The perturbation that was active this epoch, read from the study's flags; null when none or unknown. */
  perturbed: z.enum(['random_target', 'label_shuffle', 'blank_image', 'image_noise']).nullable(),
});
export type EpochRow = z.infer<typeof EpochRow>;

/** A run's rows, in epoch order, with the file they came from (named in every error). */
export interface MetricsTable {
  file: string;
  rows: EpochRow[];
}

const STUDY_COLUMNS = ['epoch', 'train_loss', 'test_loss', 'behavioral_rsa_rho', 'behavioral_rsa_p_value'];
/** The study's flag columns, in the order later code versions appended them (method §3.3). */
const FLAG_COLUMNS = [
  ['used_random_targets', 'random_target'],
  ['used_shuffled_targets', 'label_shuffle'],
  ['used_uniform_images', 'blank_image'],
  ['used_image_noise', 'image_noise'],
] as const;
const CLASSIFY_COLUMNS = ['epoch', 'train_loss', 'val_loss', 'val_acc', 'rsa_rho', 'rsa_p_value'];

type Layout =
  | { kind: 'study'; flags: number }
  | { kind: 'classify'; extra: string[] };

function detectLayout(header: string[], file: string): Layout {
  const startsWith = (cols: readonly string[]) => cols.every((c, i) => header[i] === c);
  if (startsWith(STUDY_COLUMNS)) {
    const flags = header.length - STUDY_COLUMNS.length;
    const expected = FLAG_COLUMNS.slice(0, flags).map(([name]) => name);
    if (flags <= FLAG_COLUMNS.length && startsWith([...STUDY_COLUMNS, ...expected])) return { kind: 'study', flags };
  }
  if (startsWith(CLASSIFY_COLUMNS)) return { kind: 'classify', extra: header.slice(CLASSIFY_COLUMNS.length) };
  throw new UserError(
    `${file}:1: unrecognised metrics header "${header.join(',')}"`,
    `expected "${STUDY_COLUMNS.join(',')}" optionally followed by ${FLAG_COLUMNS.map(([n]) => n).join(',')} ` +
      `(5, 7, 8 or 9 columns), or "${CLASSIFY_COLUMNS.join(',')}[,...]"`,
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
        if (parseFlag(cells[STUDY_COLUMNS.length + f]!, where, FLAG_COLUMNS[f]![0])) perturbed = FLAG_COLUMNS[f]![1];
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
