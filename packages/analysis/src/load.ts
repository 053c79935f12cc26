import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { TASK_PARAMS_FILE, UserError, isUserError, readPerturbation, readTaskParamsFile, type TaskResult } from '@lw/core';
import type { Arm, Study } from './analyze.js';
import { truncateBaseline, type Baseline } from './effects.js';
import { attachCka } from './cka-runs.js';
import { attachMeasures } from './epoch-measures.js';
import { checkBaselineSeeds } from './pairing.js';
import {
  Condition,
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

/** The training seed in a task's params; null when the params have none. */
function seedOf(params: Record<string, unknown>): number | null {
  return typeof params.seed === 'number' && Number.isInteger(params.seed) ? params.seed : null;
}

/**
 * A training task's result as a run; the condition comes from its params: `perturb` (read by
 * @lw/core's readPerturbation, the one definition both training loops write) and `seed`.
 */
export function runFromTask(task: TaskResult, model: string): Run {
  const perturb = (() => {
    try {
      return readPerturbation(task.params);
    } catch (e) {
      if (isUserError(e)) throw new UserError(`task ${task.key} (${task.stage}): ${e.message}`, e.hint);
      throw e;
    }
  })();
  if (!perturb) throw new UserError(`task ${task.key} (${task.stage}): no params.perturb`, 'inputs named runs must be perturbation runs');
  const condition = Condition.parse({ model, type: perturb.kind, start: perturb.start, length: perturb.length, perturbSeed: perturb.seed, seed: seedOf(task.params) });
  const name = Object.keys(task.condition).length ? Object.entries(task.condition).map(([k, v]) => `${k}=${String(v)}`).join(',') : task.key.slice(0, 12);
  return checkRunRows({ name: `${model}[${name}]`, condition, table: readMetrics(findMetricsFile(task.dir)) });
}

/** A baseline training task, truncated at its minimum loss, with its seed from params.seed. */
export function baselineFromTask(task: TaskResult, model: string): Baseline {
  return truncateBaseline(readMetrics(findMetricsFile(task.dir)), model, seedOf(task.params));
}

/** The directories the `lw analyze` command is given. */
export interface StudyDirs {
  /** One baseline per seed: metrics files or run folders. */
  baseline: string | string[];
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
  if (existsSync(join(dir, TASK_PARAMS_FILE))) {
    const run = collect(problems, dir, () => {
      const info = readTaskParamsFile(dir)!;
      return runFromTask({ dir, key: basename(dir), stage: info.stage, params: info.params, condition: {} }, info.stage === 'train/classify' ? 'ViT' : 'CLIP-HBA');
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

/**
 * The seed of a baseline given as a path: params.json's `seed` beside it (ours), else the study's
 * file name (`baseline_clip_results_seed1.csv`, `clip_hba_behavior_seed2/`); null when neither says.
 */
function baselineFromPath(path: string): Baseline {
  const folder = existsSync(path) && !path.match(/\.(csv|arrow)$/);
  const file = folder ? findMetricsFile(path) : path;
  const table = readMetrics(file);
  const info = readTaskParamsFile(dirname(file));
  const named = /seed(\d+)/.exec(basename(folder ? path : file));
  const seed = info ? seedOf(info.params) : named ? Number(named[1]) : null;
  return truncateBaseline(table, info?.stage === 'train/classify' ? 'ViT' : 'CLIP-HBA', seed);
}

/**
 * A study run's seed: its folder path names it (`perturb_sweep_baselineseed2_perturbseed42/`);
 * null otherwise (pairs with a single baseline).
 */
function withPathSeed(run: Run): Run {
  if (run.condition.seed !== null) return run;
  const named = /baselineseed(\d+)/.exec(run.table.file);
  return named ? { ...run, condition: { ...run.condition, seed: Number(named[1]) } } : run;
}

/** Reads the study's (or our) CSVs from folders; every unreadable run becomes a problem, not a failure. */
export function loadStudyFromDirs(dirs: StudyDirs): Study {
  const problems: Problem[] = [];
  // Without a baseline nothing can be computed: that one error stops the analysis.
  const baselines = (Array.isArray(dirs.baseline) ? dirs.baseline : [dirs.baseline]).map(baselineFromPath);
  const runs: Run[] = [
    ...(dirs.sweep ?? []).flatMap((d) => discoverSweep(d, problems)),
    ...(dirs.lengths ?? []).flatMap((d) => discoverLengths(d, problems)),
    ...(dirs.types ?? []).flatMap((d) => discoverTypes(d, problems)),
    ...(dirs.runs ?? []).flatMap((d) => runsFromDir(d, problems)),
  ].map(withPathSeed);
  // One arm per model among the baselines; a run of a model without a baseline is a problem.
  const models = [...new Set(baselines.map((b) => b.model))];
  const arms: Arm[] = models.map((model) => arm(model, baselines.filter((b) => b.model === model), runs.filter((r) => r.condition.model === model)));
  for (const r of runs.filter((r) => !models.includes(r.condition.model))) {
    problems.push({ source: r.name, message: `no ${r.condition.model} baseline among the --baseline files` });
  }
  return attachMeasures({ arms, problems });
}

function arm(model: string, baselines: Baseline[], runs: Run[]): Arm {
  checkBaselineSeeds(model, baselines);
  // The ViT arm's runs are one-epoch measurements (method §7.3): nothing to recover from.
  return { model, baselines, runs, runsContinue: model !== 'ViT' };
}

/** The stage's inputs as a study: the CLIP-HBA arm and, when given, the ViT arm; one baseline per seed. */
export function loadStudyFromTasks(inputs: {
  baseline: TaskResult[];
  runs: TaskResult[];
  vit?: TaskResult[];
  vitPerturb?: TaskResult[];
  /** eval/cka tasks of baselines (either arm). */
  cka?: TaskResult[];
}): Study {
  const problems: Problem[] = [];
  const read = (baselines: TaskResult[], runs: TaskResult[], model: string): Arm =>
    arm(
      model,
      baselines.map((t) => baselineFromTask(t, model)),
      runs.flatMap((task) => collect(problems, `${task.stage} ${task.key}`, () => runFromTask(task, model)) ?? []),
    );
  const arms = [read(inputs.baseline, inputs.runs, 'CLIP-HBA')];
  if (inputs.vit?.length) arms.push(read(inputs.vit, inputs.vitPerturb ?? [], 'ViT'));
  else if (inputs.vitPerturb?.length) problems.push({ source: 'vitPerturb', message: `${inputs.vitPerturb.length} ViT measurements but no vit baseline input` });
  // Baseline task key -> [arm, baseline]: the arms hold the baselines in input order.
  const baselineKeys = new Map<string, [number, number]>();
  [inputs.baseline, inputs.vit?.length ? inputs.vit : []].forEach((tasks, a) => tasks.forEach((t, i) => baselineKeys.set(t.key, [a, i])));
  return attachCka(attachMeasures({ arms, problems }), inputs.cka ?? [], baselineKeys);
}
