import type { z } from 'zod';

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
}

/** Identity helper that keeps the params type tied to the schema. */
export function defineStage<S extends z.ZodType>(def: StageDef<S>): StageDef<S> {
  return def;
}
