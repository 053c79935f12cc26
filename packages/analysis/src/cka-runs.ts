import { join } from 'node:path';
import { z } from 'zod';
import { UserError, readJsonFile, type TaskResult } from '@lw/core';
import { CKA_RUN_FILE, CkaRunInfo } from '@lw/eval';
import type { Study } from './analyze.js';
import { readArrowRows } from './epoch-measures.js';
import { collect } from './runs.js';

/**
 * eval/cka tasks as per-epoch CKA series of the baselines they scored. Each task's `run.json` names
 * the training task by its cache key, so a CKA series lands on exactly that baseline (same key), not
 * on another run of the same seed. One baseline can carry several series (linear, RBF at a bandwidth).
 */

/** One row of eval/cka's `cka.arrow` (packages/eval/src/cka-stage.ts). */
const CkaFileRow = z.object({
  epoch: z.number().int(),
  kernel: z.enum(['linear', 'rbf']),
  unbiased: z.boolean(),
  cka: z.number(),
  sigma: z.number().nullable(),
  sigma_model: z.number().nullable(),
  sigma_human: z.number().nullable(),
  n: z.number().int(),
});

export interface CkaSeries {
  /** e.g. `linear`, `RBF σ = 0.8 × median`, `RBF σ = 2 (absolute)`; `, unbiased` appended when it is. */
  label: string;
  rows: Array<{ epoch: number; cka: number }>;
}

export function ckaLabel(row: z.output<typeof CkaFileRow>): string {
  const kernel = row.kernel === 'linear' ? 'linear' : row.sigma !== null ? `RBF σ = ${row.sigma} × median` : `RBF σ = ${row.sigma_model} (absolute)`;
  return row.unbiased ? `${kernel}, unbiased` : kernel;
}

function readCkaTask(task: TaskResult): { run: CkaRunInfo; series: CkaSeries } {
  const infoFile = join(task.dir, CKA_RUN_FILE);
  const run = readJsonFile(infoFile, CkaRunInfo, 'eval/cka beside cka.arrow');
  if (!run) throw new UserError(`${infoFile}: missing`, 'rerun the eval/cka task: it writes run.json beside cka.arrow');
  const file = join(task.dir, 'cka.arrow');
  const rows = readArrowRows(file, CkaFileRow, 'eval/cka');
  if (!rows.length) throw new UserError(`${file}: no rows`, 'rerun the eval/cka task on a run that saved embeddings');
  return { run, series: { label: ckaLabel(rows[0]!), rows: rows.map((r) => ({ epoch: r.epoch, cka: r.cka })) } };
}

/**
 * Puts each eval/cka task's series on the baseline whose task key it names (`baselineKeys`: key ->
 * [arm index, baseline index]). A task that scored something else, or cannot be read, is a problem.
 */
export function attachCka(study: Study, tasks: TaskResult[], baselineKeys: Map<string, [number, number]>): Study {
  for (const task of tasks) {
    const source = `eval/cka ${task.key}`;
    const read = collect(study.problems, source, () => readCkaTask(task));
    if (!read) continue;
    const at = baselineKeys.get(read.run.key);
    if (!at) {
      study.problems.push({ source, message: `scored ${read.run.stage} task ${read.run.key}, which is not one of the report's baselines (give eval/cka the baseline stage as its run)` });
      continue;
    }
    const baseline = study.arms[at[0]]!.baselines[at[1]]!;
    (baseline.cka ??= []).push(read.series);
  }
  return study;
}
