import { z } from 'zod';
import { UserError, defineStage, listInput, type StageDef, type TaskResult } from '@lw/core';
import { AnalysisParams } from './analyze.js';
import { loadStudyFromTasks } from './load.js';
import { readTaskInfo } from './task-info.js';
import { writeAnalysis } from './write.js';

/** Stage params: the analysis settings plus the pipeline file that ran it (for the report's provenance). */
const CriticalPeriodsParams = AnalysisParams.extend({
  pipeline: z.object({ file: z.string().optional(), name: z.string().optional() }).optional(),
});

/** An input task for the report's provenance: key, stage, condition, params, and what it wrote about itself (backend, versions, dates). */
function describe(role: string, task: TaskResult): Record<string, unknown> {
  let info: Record<string, unknown>;
  try {
    const { params: _written, ...rest } = readTaskInfo(task.dir);
    info = rest;
  } catch (e) {
    info = { taskInfoError: (e as Error).message };
  }
  return { role, stage: task.stage, key: task.key, condition: task.condition, epoch: task.epoch, params: task.params, ...info };
}

export const criticalPeriods = defineStage({
  id: 'analysis/critical-periods',
  description: 'Effects, loss and alignment recovery, multi-seed summaries, the study figures and report.html',
  packageName: '@lw/analysis',
  params: CriticalPeriodsParams,
  inputs: {
    baseline: { description: 'the unperturbed training tasks (train/behavior), one per seed: a task or a matrix stage over seed', accepts: ['train/behavior'], arity: 'many' },
    runs: { description: 'perturbation runs: one or more matrix stages of train/behavior', accepts: ['train/behavior'], arity: 'many' },
    vit: { description: 'ViT classifier baselines (train/classify), one per seed', accepts: ['train/classify'], arity: 'many', optional: true },
    vitPerturb: { description: 'ViT single-epoch perturbation measurements (train/classify)', accepts: ['train/classify'], arity: 'many', optional: true },
    cka: { description: 'CKA of baselines with the human embedding (eval/cka tasks whose run is a baseline): Fig 9', accepts: ['eval/cka'], arity: 'many', optional: true },
  },
  async run(ctx) {
    // Each perturbed run is paired with the baseline of its own params.seed (pairing.ts).
    // `runs: [sweep, lengths]` arrives as one list of tasks (the planner flattens list references).
    const baseline = listInput(ctx.inputs, 'baseline');
    if (baseline.length === 0) throw new UserError('analysis/critical-periods: input "baseline" is missing', 'name the baseline training task (or the matrix stage of one per seed) as baseline: in the stage\'s inputs');
    const runs = listInput(ctx.inputs, 'runs');
    const vit = listInput(ctx.inputs, 'vit');
    const vitPerturb = listInput(ctx.inputs, 'vitPerturb');
    const cka = listInput(ctx.inputs, 'cka');
    const study = loadStudyFromTasks({ baseline, runs, vit, vitPerturb, cka });
    const { pipeline, ...params } = ctx.params;
    const inputs = [
      ...baseline.map((t) => describe('baseline', t)),
      ...runs.map((t) => describe('runs', t)),
      ...vit.map((t) => describe('vit', t)),
      ...vitPerturb.map((t) => describe('vitPerturb', t)),
      ...cka.map((t) => describe('cka', t)),
    ];
    const summary = await writeAnalysis(ctx.outDir, study, params, { pipeline: { ...pipeline, task: ctx.taskName, key: ctx.taskKey }, inputs }, ctx.log);
    return { ...summary, files: summary.files.length };
  },
});

/** The pipeline stages this package provides; `@lw/pipeline` registers them. */
export const stages: StageDef[] = [criticalPeriods as unknown as StageDef];
