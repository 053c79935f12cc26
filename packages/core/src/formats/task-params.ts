import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonFile } from './json-file.js';

/**
 * `params.json`, the provenance file beside every task's outputs (as timm writes args.yaml): the
 * stage, its fully resolved params and the versions of the packages involved, written by the task
 * runner for every stage, plus what the stage recorded itself through `ctx.record` (the backend
 * that ran the numbers, a training stage's `model`, `numClasses`, ...). Readers: the analysis
 * (report provenance, `lw analyze --runs` folders) and benches.
 */
export const TASK_PARAMS_FILE = 'params.json';

export const TaskParamsFileSchema = z.looseObject({
  /** Stage id, e.g. `train/behavior`. */
  stage: z.string(),
  /** The params the stage ran with, defaults filled in. */
  params: z.record(z.string(), z.unknown()),
  /** `node` and each package's version (packageVersions). */
  versions: z.record(z.string(), z.string()),
  /** The tfjs backend, for stages that compute with one (@lw/models BackendInfo). */
  backend: z.looseObject({ name: z.string() }).optional(),
});
export type TaskParamsFile = z.output<typeof TaskParamsFileSchema>;

/** Writes `<dir>/params.json`. */
export function writeTaskParamsFile(dir: string, body: TaskParamsFile): void {
  writeJsonFile(join(dir, TASK_PARAMS_FILE), body);
}

/** `<dir>/params.json`; undefined when there is none; a UserError naming the file and field when it is malformed. */
export function readTaskParamsFile(dir: string): TaskParamsFile | undefined {
  return readJsonFile(join(dir, TASK_PARAMS_FILE), TaskParamsFileSchema, 'the task runner (stage, params, versions, and what the stage recorded)');
}
