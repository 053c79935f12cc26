import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { sha256, UserError } from '@lw/core';
import { z } from 'zod';

/**
 * The small state file of one `lw run --executor slurm`: which Slurm jobs it submitted, so that
 * `lw cancel FILE` (from any shell on a machine that sees the cache) can scancel exactly those.
 * One file per pipeline file: `<cache>/slurm/runs/<sha256(abs path)[0:16]>.json`.
 */
export const RunStateSchema = z.object({
  version: z.literal(1),
  pipelineFile: z.string(),
  pipeline: z.string(),
  host: z.string(),
  pid: z.int(),
  startedAt: z.string(),
  jobs: z.array(
    z.object({
      /** As sbatch returned it: `123` (an array job's id covers all its tasks). */
      id: z.string(),
      name: z.string(),
      keys: z.array(z.string()),
    }),
  ),
});
export type RunState = z.infer<typeof RunStateSchema>;

export function runStatePath(cacheDir: string, pipelineFile: string): string {
  return join(cacheDir, 'slurm', 'runs', `${sha256(resolve(pipelineFile)).slice(0, 16)}.json`);
}

export function newRunState(pipelineFile: string, pipeline: string): RunState {
  return {
    version: 1,
    pipelineFile: resolve(pipelineFile),
    pipeline,
    host: hostname(),
    pid: process.pid,
    startedAt: new Date().toISOString(),
    jobs: [],
  };
}

/** Written whole to a temp file and renamed: a reader never sees half a file. */
export function writeRunState(path: string, state: RunState): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, path);
}

export function readRunState(path: string, pipelineFile: string): RunState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(
      `no Slurm run of ${pipelineFile} is recorded in this cache (looked for ${path})`,
      'pass the same --cache (or LW_CACHE) that `lw run --executor slurm` used',
    );
  }
  const parsed = RunStateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new UserError(`${path} is not a Slurm run state file: ${parsed.error.issues[0]?.message}`, 'delete it; it is rewritten by the next run');
  }
  return parsed.data;
}
