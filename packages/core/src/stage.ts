import type { z } from 'zod';
import { UserError } from './errors.js';

/**
 * The contract between packages that provide stages and the pipeline that runs them.
 * A stage reads only its params and declared inputs and writes only into `outDir`: that is what
 * makes its cache key honest. The pipeline knows stages only through `StageDef`s registered with it.
 */

/** The result of one upstream task, as a stage sees it. */
export interface TaskResult {
  /** Directory holding that task's outputs (read-only). */
  dir: string;
  /** The upstream task's cache key. */
  key: string;
  /** Stage id of the upstream task, e.g. `train/behavior`. */
  stage: string;
  /** Its fully resolved params. */
  params: Record<string, unknown>;
  /** The matrix condition that produced it (empty for a plain stage), e.g. `{ type: 'image_noise', start: 5 }`. */
  condition: Record<string, unknown>;
  /** Set when the reference names one checkpoint of a training task: `baseline@epoch(4)`. */
  epoch?: number;
}

/** A named input: one task (`data`), one checkpoint (`baseline@epoch(4)`), or all tasks of a matrix stage (`[sweep]`). */
export type StageInput = TaskResult | TaskResult[];

export interface StageContext<P> {
  params: P;
  inputs: Record<string, StageInput>;
  /** A fresh, empty directory; everything the stage produces goes here. */
  outDir: string;
  /** This task's cache key and a human-readable name (`sweep[type=image_noise,start=5]`). */
  taskKey: string;
  taskName: string;
  /** A line for the task's log file (`<outDir>/task.log`) and the runner's verbose output. */
  log(message: string): void;
  /** Units of work done so far (epochs, images), shown in the progress view. */
  progress(done: number, total: number, note?: string): void;
  /** Aborted when the run is cancelled; long loops check it between units of work. */
  signal: AbortSignal;
  /**
   * A directory that survives a crash of this task (not part of the cache entry), for checkpoints
   * that let a rerun resume mid-task. Same path for the same key across runs.
   */
  scratchDir: string;
  /**
   * CPU threads this task may use: the executor's share of the cores (cores / concurrent tasks,
   * at least 1). Stages size their thread pools with it instead of guessing from the machine.
   */
  threads: number;
  /** GPU ids the executor gave this task (`resources.gpus`), e.g. `['1']`; empty when it holds none. */
  gpus: string[];
  /**
   * Adds fields to this task's provenance file (`params.json`: stage, params, versions), which the
   * task runner writes for every stage. For what only the stage knows: the backend it ran on.
   */
  record(fields: Record<string, unknown>): void;
}

/** A small JSON summary written to the task's result and shown by `lw status`. */
export type StageSummary = Record<string, unknown>;

export interface InputSpec {
  description: string;
  /** Stage ids whose results this input accepts; empty means any. */
  accepts?: string[];
  /** `one` (a task or checkpoint), `many` (a list or a matrix stage), or `any`. */
  arity?: 'one' | 'many' | 'any';
  optional?: boolean;
  /** The input must name one checkpoint: `stage@epoch(N)`. */
  checkpoint?: boolean;
}

/** What a task needs of the machine; the pipeline file's `resources:` block overrides it. */
export interface StageResources {
  /** GPUs one task uses (default 0: a CPU task). */
  gpus?: number;
}

export interface StageDef<S extends z.ZodType = z.ZodType> {
  id: string;
  description: string;
  /** The workspace package that implements it; its built files enter the code fingerprint. */
  packageName: string;
  params: S;
  inputs: Record<string, InputSpec>;
  /** Files and folders outside the cache that the params point to; fingerprinted by content. */
  externalPaths?(params: z.output<S>): string[];
  run(ctx: StageContext<z.output<S>>): Promise<StageSummary>;
  /**
   * The last epoch a task of these params writes a checkpoint for (checkpoints are 0..last), so
   * the planner can check `name@epoch(E)` before anything runs. Omit for stages without checkpoints.
   */
  lastCheckpoint?(params: z.output<S>): number;
  /**
   * Estimated units of work (epochs) of a task, given the checkpoint epoch it resumes from (0 when
   * it starts fresh). Only the executor's start order depends on it; default 1.
   */
  work?(params: z.output<S>, resumedFrom: number): number;
  /** What one task needs of the machine, from its params; default none (a CPU task). */
  resources?(params: z.output<S>): StageResources;
}

/** Identity helper that keeps the params type tied to the schema. */
export function defineStage<S extends z.ZodType>(def: StageDef<S>): StageDef<S> {
  return def;
}

/** A named input that must be one task or checkpoint; `undefined` only for an absent optional input. */
export function singleInput(inputs: Record<string, StageInput>, name: string, stage: string): TaskResult;
export function singleInput(inputs: Record<string, StageInput>, name: string, stage: string, optional: true): TaskResult | undefined;
export function singleInput(inputs: Record<string, StageInput>, name: string, stage: string, optional = false): TaskResult | undefined {
  const input = inputs[name];
  if (input === undefined) {
    if (optional) return undefined;
    throw new UserError(`${stage}: input "${name}" is missing`, `name one task as ${name}: in the stage's inputs`);
  }
  if (Array.isArray(input)) throw new UserError(`${stage}: input "${name}" must be one task, got a list of ${input.length}`, `name one task (${name}: baseline) or one checkpoint (${name}: baseline@epoch(N))`);
  return input;
}

/** A named input as a list: a list or matrix stage as given, one task as a list of one, absent as empty. */
export function listInput(inputs: Record<string, StageInput>, name: string): TaskResult[] {
  const input = inputs[name];
  if (input === undefined) return [];
  return Array.isArray(input) ? input : [input];
}
