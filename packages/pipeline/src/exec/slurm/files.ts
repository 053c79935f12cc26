import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Paths in the shared cache that the Slurm executor reads or writes, in one place.
 * Entries and progress files are the task runner's (`lw task`); logs and job files are ours.
 */

/** A published entry: `<cache>/<key[0:2]>/<key>/` (its existence is what success means). */
export function entryExists(cacheDir: string, key: string): boolean {
  return existsSync(join(cacheDir, key.slice(0, 2), key));
}

/** stdout and stderr of the Slurm job that ran this key, including slurmstepd's kill messages. */
export function slurmLogPath(cacheDir: string, key: string): string {
  return join(cacheDir, 'logs', `${key}.out`);
}

/** Where an array job's Slurm writes `<index>.out`; `logs/<key>.out` links to them. */
export function arrayLogDir(cacheDir: string, jobDirName: string): string {
  return join(cacheDir, 'logs', 'arrays', jobDirName);
}

/** Job script and array key list of one submission. */
export function jobDir(cacheDir: string, jobDirName: string): string {
  return join(cacheDir, 'slurm', 'jobs', jobDirName);
}

export interface TaskProgress {
  done: number;
  total: number;
  note?: string;
}

/** `<cache>/progress/<key>.json` as the task runner rewrites it; undefined until it exists. */
export function readProgress(cacheDir: string, key: string): TaskProgress | undefined {
  try {
    const p = JSON.parse(readFileSync(join(cacheDir, 'progress', `${key}.json`), 'utf8')) as Partial<TaskProgress>;
    if (typeof p.done !== 'number' || typeof p.total !== 'number') return undefined;
    return { done: p.done, total: p.total, ...(typeof p.note === 'string' ? { note: p.note } : {}) };
  } catch {
    // Not written yet, or caught mid-rewrite: the next poll reads it.
    return undefined;
  }
}
