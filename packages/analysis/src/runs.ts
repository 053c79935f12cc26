import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { PerturbationKind, UserError, isUserError } from '@lw/core';
import { readMetricsCsv, type MetricsTable } from './metrics.js';
import { readMetricsArrow } from './metrics-arrow.js';
import type { EpochMeasures } from './epoch-measures.js';

/** The shared perturbation kinds (@lw/core perturbation.ts); the ViT's type names are mapped to them when read. */
export const PerturbType = PerturbationKind;
export type PerturbType = PerturbationKind;

/** What was done to a run: perturbation type, 1-based start epoch, length in epochs, seeds when known. */
export const Condition = z.object({
  model: z.string().default('CLIP-HBA'),
  type: PerturbType,
  start: z.number().int().min(1),
  length: z.number().int().min(1).default(1),
  perturbSeed: z.number().int().nullable().default(null),
  seed: z.number().int().nullable().default(null),
});
export type Condition = z.infer<typeof Condition>;

export interface Run {
  /** Human-readable name: folder, file or task name. */
  name: string;
  condition: Condition;
  table: MetricsTable;
  /** Layer-wise RSA and Fisher trace of every epoch, where the run folder has them (epoch-measures.ts). */
  measures?: EpochMeasures;
}

/** A file or run that could not be read; collected so that one bad run never hides the others. */
export interface Problem {
  source: string;
  message: string;
}

/** The study's folder names for perturbation types (method §0, §4) mapped to ours. */
const STUDY_TYPE_NAMES: Record<string, PerturbType> = {
  random_target: 'random_target',
  target_noise: 'random_target',
  label_shuffle: 'label_shuffle',
  image_noise: 'image_noise',
  uniform_target: 'blank_image',
  uniform_images: 'blank_image',
  blank_image: 'blank_image',
};

export function studyTypeName(folder: string): PerturbType | undefined {
  return STUDY_TYPE_NAMES[folder];
}

/** The metrics file of a run folder: `training_res*.csv`, `metrics.csv` or `metrics.arrow` (CSV first). */
export function findMetricsFile(dir: string): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${dir}: not a run folder`, 'expected a folder holding the run metrics');
  const names = readdirSync(dir).sort();
  const csv = names.find((n) => /^training_res.*\.csv$/.test(n)) ?? names.find((n) => n === 'metrics.csv');
  if (csv) return join(dir, csv);
  if (names.includes('metrics.arrow')) return join(dir, 'metrics.arrow');
  throw new UserError(`${dir}: no metrics file`, 'expected training_res*.csv, metrics.csv or metrics.arrow in the run folder');
}

export function readMetrics(file: string): MetricsTable {
  return file.endsWith('.arrow') ? readMetricsArrow(file) : readMetricsCsv(file);
}

/** Runs `load` and turns a UserError into a collected problem; bugs still throw. */
export function collect<T>(problems: Problem[], source: string, load: () => T): T | undefined {
  try {
    return load();
  } catch (e) {
    if (!isUserError(e)) throw e;
    problems.push({ source, message: e.hint ? `${e.message} (${e.hint})` : e.message });
    return undefined;
  }
}

function listDir(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError(`${dir}: not a directory`, 'pass a folder of study runs');
  }
  return readdirSync(dir).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

const SWEEP_FOLDER = /^training_run(\d+)$/;
const SWEEP_FILE = /^training_res_run(\d+)\.csv$/;
const LENGTH_FOLDER = /^([a-z_]+)_e(\d+)_l(\d+)$/;

/**
 * One single-epoch run of the study (method §4.1): a folder `training_run{E}/` holding
 * `training_res_run{E}.csv`, or that CSV on its own. Undefined when the name is neither.
 */
export function studySweepRun(path: string, type: PerturbType = 'random_target', base: Partial<Condition> = {}): Run | undefined {
  const entry = basename(path);
  const folder = SWEEP_FOLDER.exec(entry);
  const match = folder ?? SWEEP_FILE.exec(entry);
  if (!match) return undefined;
  const table = readMetrics(folder ? findMetricsFile(path) : path);
  const condition = Condition.parse({ ...base, type, start: Number(match[1]), length: 1 });
  return checkRunRows({ name: `${basename(dirname(path))}/${entry}`, condition, table });
}

/** One variable-length run of the study (method §4.2): a folder `{type}_e{E}_l{L}/`. Undefined when the name does not fit. */
export function studyLengthRun(path: string, base: Partial<Condition> = {}): Run | undefined {
  const entry = basename(path);
  const match = LENGTH_FOLDER.exec(entry);
  if (!match) return undefined;
  const type = studyTypeName(match[1]!);
  if (!type) throw new UserError(`${path}: unknown perturbation type "${match[1]}"`, `expected one of ${Object.keys(STUDY_TYPE_NAMES).join(', ')}`);
  const table = readMetrics(findMetricsFile(path));
  const condition = Condition.parse({ ...base, type, start: Number(match[2]), length: Number(match[3]) });
  return checkRunRows({ name: `${basename(dirname(path))}/${entry}`, condition, table });
}

/** Every run in `dir` that `read` recognises; unreadable ones become problems. */
function discover(dir: string, problems: Problem[], read: (path: string) => Run | undefined): Run[] {
  const runs: Run[] = [];
  for (const entry of collect(problems, dir, () => listDir(dir)) ?? []) {
    const path = join(dir, entry);
    const run = collect(problems, path, () => read(path));
    if (run) runs.push(run);
  }
  return runs.sort((a, b) => a.condition.start - b.condition.start || a.condition.length - b.condition.length);
}

/** A single-epoch sweep folder: runs `training_run{E}/` or `training_res_run{E}.csv`. Type `random_target` unless given (type-comparison folders). */
export function discoverSweep(dir: string, problems: Problem[], type: PerturbType = 'random_target', base: Partial<Condition> = {}): Run[] {
  return discover(dir, problems, (path) => studySweepRun(path, type, base));
}

/** A variable-length folder: runs `{type}_e{E}_l{L}/`, each with training_res.csv or metrics.csv. */
export function discoverLengths(dir: string, problems: Problem[], base: Partial<Condition> = {}): Run[] {
  return discover(dir, problems, (path) => studyLengthRun(path, base));
}

/** A type-comparison folder (method §4.1, Fig 2): one sweep-like folder per type (`image_noise/`, `uniform_target/`, ...). */
export function discoverTypes(dir: string, problems: Problem[], base: Partial<Condition> = {}): Run[] {
  const runs: Run[] = [];
  const entries = collect(problems, dir, () => listDir(dir)) ?? [];
  for (const entry of entries) {
    const type = studyTypeName(entry);
    if (!type || !statSync(join(dir, entry)).isDirectory()) continue;
    for (const run of discoverSweep(join(dir, entry), problems, type, base)) {
      runs.push({ ...run, name: `${basename(dir)}/${run.name}` });
    }
  }
  return runs;
}

/**
 * A run's table must hold its perturbed epoch (rows may start there, as the study's do), and where
 * the study's flags are present they must agree with the condition taken from the folder name.
 */
export function checkRunRows(run: Run): Run {
  const { table, condition } = run;
  const first = table.rows[0]!.epoch;
  if (first > condition.start) {
    throw new UserError(
      `${table.file}: rows start at epoch ${first}, after the perturbed epoch ${condition.start}`,
      'a run must include its perturbed epoch (rows may start there)',
    );
  }
  const flagged = table.rows.find((r) => r.perturbed !== null);
  if (flagged && (flagged.epoch !== condition.start || flagged.perturbed !== condition.type)) {
    throw new UserError(
      `${table.file}: flags mark ${flagged.perturbed} at epoch ${flagged.epoch}, the folder name says ${condition.type} at epoch ${condition.start}`,
      'rename the folder or check that the right CSV is in it',
    );
  }
  return run;
}
