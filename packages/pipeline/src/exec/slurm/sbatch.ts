import type { SlurmResources } from './config.js';
import { shellCommand, shellQuote } from './quote.js';

/**
 * One `sbatch` call as data: the argv (never through a shell) and the job script it submits.
 * Pure functions; `submit.ts` writes the files and runs the argv.
 */

export interface SbatchJob {
  /** Unsanitised job name, e.g. `lw:critical-periods:sweep[type=image_noise,start=5]`. */
  name: string;
  resources: SlurmResources;
  /** Absolute path of the job script (written with `jobScript`). */
  scriptPath: string;
  /** Where Slurm writes the job's stdout and stderr; for an array, a directory gets `<index>.out`. */
  output: { file: string } | { arrayDir: string };
  /** Working directory of the job (the directory `lw run` was started in). */
  workDir: string;
  /** Job ids (`123`, or `123_4` for one array task) that must complete successfully first. */
  afterOk: readonly string[];
  /** Present for a job array: indices 0..size-1, at most `limit` running at once. */
  array?: { size: number; limit?: number };
}

/** Slurm job names show in squeue and accounting: keep them to characters every tool prints as is. */
export function sanitizeJobName(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_.:=,+@\-[\]]/g, '_');
  return clean.length <= 200 ? clean : clean.slice(0, 200);
}

/** `lw:<pipeline>:<task>` — which study and which task, as squeue shows it. */
export function jobName(pipeline: string, task: string): string {
  return sanitizeJobName(`lw:${pipeline}:${task}`);
}

// In sbatch's --output, `%` starts a replacement (`%a`, `%j`); a literal one is written `%%`.
function filenamePattern(path: string): string {
  return path.replaceAll('%', '%%');
}

export function sbatchArgv(job: SbatchJob): string[] {
  const r = job.resources;
  const argv = ['sbatch', '--parsable', `--job-name=${sanitizeJobName(job.name)}`, `--chdir=${job.workDir}`];
  const output =
    'file' in job.output ? filenamePattern(job.output.file) : `${filenamePattern(job.output.arrayDir)}/%a.out`;
  // stderr goes to the same file: one log per task, in the order things happened.
  argv.push(`--output=${output}`);
  if (job.array) {
    const limit = job.array.limit ? `%${job.array.limit}` : '';
    argv.push(`--array=0-${job.array.size - 1}${limit}`);
  }
  if (job.afterOk.length) argv.push(`--dependency=afterok:${job.afterOk.join(':')}`);
  // A dependent of a failed job would otherwise pend forever (Reason=DependencyNeverSatisfied).
  argv.push('--kill-on-invalid-dep=yes');
  if (r.partition) argv.push(`--partition=${r.partition}`);
  if (r.account) argv.push(`--account=${r.account}`);
  if (r.qos) argv.push(`--qos=${r.qos}`);
  if (r.time !== undefined) argv.push(`--time=${r.time}`);
  if (r.cpus !== undefined) argv.push(`--cpus-per-task=${r.cpus}`);
  if (r.mem !== undefined) argv.push(`--mem=${r.mem}`);
  if (r.gpus !== undefined) argv.push(r.gpuFlag === 'gpus' ? `--gpus=${r.gpus}` : `--gres=gpu:${r.gpus}`);
  argv.push(...(r.extra ?? []));
  argv.push(job.scriptPath);
  return argv;
}

/** What the job script runs: the task command of one key (`taskCommand` from executor.ts). */
export type TaskArgv = (key: string) => string[];

// Stands for the shell variable `$key` while the argv is quoted word by word.
const KEY_MARK = '\u0001lw-key\u0001';

/**
 * The job script. Everything taken from outside (paths, keys) is single-quoted; an array task reads
 * its key from line `SLURM_ARRAY_TASK_ID + 1` of `keysFile` (one key per line, written beside the script).
 */
export function jobScript(opts: { name: string; taskArgv: TaskArgv } & ({ key: string } | { keysFile: string })): string {
  const words = opts.taskArgv(KEY_MARK).map((w) => (w === KEY_MARK ? '"$key"' : shellQuote(w)));
  const keyLine =
    'key' in opts
      ? `key=${shellQuote(opts.key)}`
      : `key=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" ${shellQuote(opts.keysFile)})`;
  return [
    '#!/bin/sh',
    `# ${sanitizeJobName(opts.name)}: written by lw run --executor slurm`,
    'set -eu',
    keyLine,
    'test -n "$key"',
    'echo "lw: task $key on $(hostname) (job ${SLURM_JOB_ID:-?}${SLURM_ARRAY_TASK_ID:+ array index $SLURM_ARRAY_TASK_ID})" >&2',
    `exec ${words.join(' ')}`,
    '',
  ].join('\n');
}

/** One line for `--dry-run` and logs: the argv as a shell would need it typed. */
export function describeSbatch(argv: readonly string[]): string {
  return shellCommand(argv);
}
