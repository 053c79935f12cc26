import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { EPOCH_MEASURES_FILE, EpochMeasuresRow, LAYER_RSA_FILE, LayerRsaRow, UserError } from '@lw/core';
import type { z } from 'zod';
import type { Study } from './analyze.js';
import { collect } from './runs.js';

/**
 * The optional per-epoch measures beside a run's metrics (@lw/core formats/epoch-measures.ts):
 * layer-wise RSA (`layer_rsa.arrow`) and the Fisher trace (`epoch_measures.arrow`), read where a run
 * folder has them. Study runs and runs without them have none, which is not a problem.
 */
export interface EpochMeasures {
  /** Rows in file order (epoch, then layer); null when the run has no layer_rsa.arrow. */
  layers: LayerRsaRow[] | null;
  /** null when the run has no epoch_measures.arrow. */
  fisher: EpochMeasuresRow[] | null;
}

/** Every row of an Arrow file, validated; a UserError names the file (and row) and who writes it. */
export function readArrowRows<S extends z.ZodType>(file: string, schema: S, writtenBy: string): Array<z.output<S>> {
  let table;
  try {
    table = tableFromIPC(readFileSync(file));
  } catch (e) {
    throw new UserError(`${file}: not a readable Arrow file (${(e as Error).message})`, 'rerun the task that wrote it', { cause: e });
  }
  return table.toArray().map((row, i) => {
    const parsed = schema.safeParse((row as { toJSON(): unknown }).toJSON());
    if (!parsed.success) {
      throw new UserError(`${file}: row ${i}: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`, `the file should be written by ${writtenBy}`);
    }
    return parsed.data;
  });
}

/** The measures in run folder `dir`; undefined when it has neither file. */
export function readEpochMeasures(dir: string): EpochMeasures | undefined {
  const layerFile = join(dir, `${LAYER_RSA_FILE}.arrow`);
  const fisherFile = join(dir, `${EPOCH_MEASURES_FILE}.arrow`);
  const writtenBy = 'train/behavior or train/classify (layers / fisher params)';
  const layers = existsSync(layerFile) ? readArrowRows(layerFile, LayerRsaRow, writtenBy) : null;
  const fisher = existsSync(fisherFile) ? readArrowRows(fisherFile, EpochMeasuresRow, writtenBy) : null;
  return layers || fisher ? { layers, fisher } : undefined;
}

/**
 * Reads the measures beside every baseline's and run's metrics file into `measures`; an unreadable
 * measures file is a problem of that run (its metrics are still analysed).
 */
export function attachMeasures(study: Study): Study {
  for (const arm of study.arms) {
    for (const item of [...arm.baselines.map((b) => ({ name: `${arm.model} baseline ${b.seed ?? ''}`.trim(), target: b, file: b.full.file })), ...arm.runs.map((r) => ({ name: r.name, target: r, file: r.table.file }))]) {
      const m = collect(study.problems, `${item.name} (${dirname(item.file)})`, () => readEpochMeasures(dirname(item.file)));
      if (m) item.target.measures = m;
    }
  }
  return study;
}
