import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonFile } from './json-file.js';

/**
 * `result.json` of a cache entry: which task it is, the summary its stage returned, and when and
 * where it ran. Written by the pipeline's cache when it publishes the entry; read by the cache,
 * the analysis (report provenance) and benches.
 */
export const TASK_RESULT_FILE = 'result.json';

export const TaskResultFileSchema = z.object({
  /** The task's cache key. */
  key: z.string(),
  /** Its name in the pipeline file, e.g. `sweep[type=image_noise,start=5]`. */
  name: z.string(),
  stage: z.string(),
  /** What the stage's run returned. */
  summary: z.record(z.string(), z.unknown()),
  /** ISO times of the run. */
  started: z.string(),
  finished: z.string(),
  seconds: z.number(),
  host: z.string(),
});
export type TaskResultFile = z.output<typeof TaskResultFileSchema>;

/** Writes `<dir>/result.json`. */
export function writeTaskResultFile(dir: string, result: TaskResultFile): void {
  writeJsonFile(join(dir, TASK_RESULT_FILE), result);
}

/** `<dir>/result.json`; undefined when there is none; a UserError naming the file and field when it is malformed. */
export function readTaskResultFile(dir: string): TaskResultFile | undefined {
  return readJsonFile(join(dir, TASK_RESULT_FILE), TaskResultFileSchema, 'the pipeline cache when it publishes an entry');
}
