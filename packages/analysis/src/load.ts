import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { UserError, type TaskResult } from '@lw/core';
import type { Arm, Study } from './analyze.js';
import { truncateBaseline } from './effects.js';
import {
  Condition,
  PerturbType,
  checkRunRows,
  collect,
  discoverLengths,
  discoverSweep,
  discoverTypes,
  studyLengthRun,
  studySweepRun,
  studyTypeName,
  findMetricsFile,
  readMetrics,
  type Problem,
  type Run,
} from './runs.js';
import { readTaskInfo } from './task-info.js';

/** The part of a training task's params that says what was perturbed (train stage params, see conventions). */
const TaskParams = z.object({
  seed: z.number().int().optional(),
  perturb: z
    .object({
      type: PerturbType,
      start: z.number().int().min(1),
      length: z.number().int().min(1).default(1),
      seed: z.number().int().default(42),
    })
    .optional(),
});

/** A training task's result as a run; the condition comes from its params (`perturb`, `seed`). */
export function runFromTask(task: TaskResult, model: string): Run {
  const parsed = TaskParams.safeParse(task.params);
  if (!parsed.success) {
    throw new UserError(`task ${task.key} (${task.stage}): params do not describe a perturbation: ${parsed.error.issues[0]!.message}`, 'runs must be train tasks with params.perturb');
  }
  const { perturb, seed } = parsed.data;
  if (!perturb) throw new UserError(`task ${task.key} (${task.stage}): no params.perturb`, 'inputs named runs must be perturbation runs');
  const condition = Condition.parse({ model, type: perturb.type, start: perturb.start, length: perturb.length, perturbSeed: perturb.seed, seed: seed ?? null });
  const name = Object.keys(task.condition).length ? Object.entries(task.condition).map(([k, v]) => `${k}=${String(v)}`).join(',') : task.key.slice(0, 12);
  return checkRunRows({ name: `${model}[${name}]`, condition, table: readMetrics(findMetricsFile(task.dir)) });
}

/** The directories the `lw analyze` command is given. */
export interface StudyDirs {
  baseline: string;
  sweep?: string[];
  lengths?: string[];
  types?: string[];
  runs?: string[];
}

/**
 * A `--runs` directory: a run folder of ours (metrics + params.json with `perturb`), a study run
 * folder (`training_run{E}`, `{type}_e{E}_l{L}`), or a folder of those (sweep, lengths or types).
 */
function runsFromDir(dir: string, problems: Problem[]): Run[] {
  if (existsSync(join(dir, 'params.json'))) {
    const run = collect(problems, dir, () => {
      const info = readTaskInfo(dir);
      if (!info.params) throw new UserError(`${join(dir, 'params.json')}: no "params" object`, 'expected the params.json a train stage writes');
      return runFromTask({ dir, key: basename(dir), stage: info.stage ?? 'train/behavior', params: info.params, condition: {} }, 'CLIP-HBA');
    });
    return run ? [run] : [];
  }
  // null: not a run folder by name; undefined: a run folder that could not be read (a problem now).
  // A single-epoch run inside a type folder (`image_noise/training_run15`) takes its type from that folder.
  const type = studyTypeName(basename(dirname(dir))) ?? 'random_target';
  const single = collect(problems, dir, () => studySweepRun(dir, type) ?? studyLengthRun(dir) ?? null);
  if (single) return [single];
  if (single === undefined) return [];
  return [...discoverSweep(dir, problems), ...discoverLengths(dir, problems), ...discoverTypes(dir, problems)];
}

/** Reads the study's (or our) CSVs from folders; every unreadable run becomes a problem, not a failure. */
export function loadStudyFromDirs(dirs: StudyDirs): Study {
  const problems: Problem[] = [];
  const baselineFile = existsSync(dirs.baseline) && !dirs.baseline.match(/\.(csv|arrow)$/) ? findMetricsFile(dirs.baseline) : dirs.baseline;
  // Without a baseline nothing can be computed: that one error stops the analysis.
  const baseline = truncateBaseline(readMetrics(baselineFile));
  const runs: Run[] = [
    ...(dirs.sweep ?? []).flatMap((d) => discoverSweep(d, problems)),
    ...(dirs.lengths ?? []).flatMap((d) => discoverLengths(d, problems)),
    ...(dirs.types ?? []).flatMap((d) => discoverTypes(d, problems)),
    ...(dirs.runs ?? []).flatMap((d) => runsFromDir(d, problems)),
  ];
  const arms: Arm[] = [{ baseline, runs, runsContinue: true }];
  return { arms, problems };
}

/** The stage's inputs as a study: the CLIP-HBA arm and, when given, the ViT arm. */
export function loadStudyFromTasks(inputs: {
  baseline: TaskResult;
  runs: TaskResult[];
  vit?: TaskResult;
  vitPerturb?: TaskResult[];
}): Study {
  const problems: Problem[] = [];
  const arm = (baseline: TaskResult, runs: TaskResult[], model: string, runsContinue: boolean): Arm => ({
    baseline: truncateBaseline(readMetrics(findMetricsFile(baseline.dir)), model),
    runs: runs.flatMap((task) => collect(problems, `${task.stage} ${task.key}`, () => runFromTask(task, model)) ?? []),
    runsContinue,
  });
  const arms = [arm(inputs.baseline, inputs.runs, 'CLIP-HBA', true)];
  if (inputs.vit) arms.push(arm(inputs.vit, inputs.vitPerturb ?? [], 'ViT', false));
  return { arms, problems };
}
