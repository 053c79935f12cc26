import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { packageVersions, provenancePackages, TASK_PARAMS_FILE, UserError, writeTaskParamsFile, type StageDef, type StageInput, type TaskResult } from '@lw/core';
import { Cache } from '../cache/cache.js';
import { TaskSpecSchema, type InputRef, type TaskSpec } from './executor.js';
import type { KeyInputs } from '../plan/key.js';
import { tryLock, type Lock } from '../cache/lock.js';
import { removeTree } from '../cache/read-only.js';
import type { Registry } from '../stages/registry.js';

/**
 * Runs one task from its key: what `lw task KEY` and the local executor's child processes do.
 * Takes the key's lock (waiting while another process holds it), runs the stage into a temp dir,
 * publishes by rename, and removes the scratch dir. A concurrent run that published first makes
 * this a no-op (`cachedByOther`). On failure or cancel the temp dir is removed, scratch is kept.
 */
export type TaskOutcome = 'ran' | 'cached' | 'cachedByOther';

export interface RunTaskOptions {
  signal: AbortSignal;
  registry: Registry;
  /** Progress of the stage (`ctx.progress`), besides the progress file. */
  onProgress?(done: number, total: number, note?: string): void;
  /** Called once the lock is held and the stage is about to run. */
  onStart?(): void;
}

/** What a crash handler must clean up: set while a stage runs. */
export const inFlight: { tmp?: string; lock?: Lock } = {};

export function readSpec(cache: Cache, key: string): TaskSpec {
  const path = cache.specPath(key);
  if (!existsSync(path)) throw new UserError(`no task spec for key ${key} in ${cache.dir}`, `\`lw run\` writes specs to ${join(cache.dir, 'specs')}; check --cache (or LW_CACHE) points at the same cache`);
  const parsed = TaskSpecSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new UserError(`${path}: not a valid task spec: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`, 'specs are written by `lw run`; rerun it to rewrite them');
  return parsed.data;
}

export async function runTask(cache: Cache, key: string, opts: RunTaskOptions): Promise<TaskOutcome> {
  if (cache.has(key)) return 'cached';
  const spec = readSpec(cache, key);
  cache.ensureLayout();
  const lock = await acquire(cache, key, opts.signal);
  if (!lock) return 'cachedByOther';
  inFlight.lock = lock;
  let tmp: string | undefined;
  try {
    if (cache.has(key)) return 'cachedByOther';
    if (opts.signal.aborted) throw new Error('cancelled');
    const reg = opts.registry.get(spec.stage);
    if (!reg) throw new UserError(`task ${spec.name} uses stage "${spec.stage}", which this installation does not register`, 'build the package that provides it (npm run build)');
    const params = checkedParams(spec, reg.def);
    tmp = cache.makeTemp(key);
    inFlight.tmp = tmp;
    const scratch = cache.scratchDir(key);
    mkdirSync(scratch, { recursive: true });
    process.env.LW_PIPELINE_DIR = spec.pipelineDir;
    opts.onStart?.();
    const started = new Date();
    const progressFile = cache.progressPath(key);
    let lastWrite = 0;
    const recorded: Record<string, unknown> = {};
    const summary = await reg.def.run({
      params,
      inputs: resolveInputs(cache, spec),
      outDir: tmp,
      taskKey: key,
      taskName: spec.name,
      scratchDir: scratch,
      signal: opts.signal,
      ...machineShare(process.env),
      record: (fields) => Object.assign(recorded, fields),
      log: (message) => {
        appendFileSync(join(tmp!, 'task.log'), message + '\n');
        process.stderr.write(message + '\n');
      },
      progress: (done, total, note) => {
        opts.onProgress?.(done, total, note);
        if (Date.now() - lastWrite < 1000 && done < total) return;
        lastWrite = Date.now();
        writeFileSync(`${progressFile}.tmp`, JSON.stringify({ done, total, note, time: new Date().toISOString() }));
        renameSync(`${progressFile}.tmp`, progressFile);
      },
    });
    if (opts.signal.aborted) throw new Error('cancelled');
    writeProvenance(tmp, spec, params, recorded);
    const finished = new Date();
    const published = cache.publish(tmp, spec.keyInputs as unknown as KeyInputs, {
      key,
      name: spec.name,
      stage: spec.stage,
      summary,
      started: started.toISOString(),
      finished: finished.toISOString(),
      seconds: (finished.getTime() - started.getTime()) / 1000,
      host: hostname(),
    });
    tmp = undefined;
    rmSync(scratch, { recursive: true, force: true });
    rmSync(progressFile, { force: true });
    return published ? 'ran' : 'cachedByOther';
  } finally {
    if (tmp) removeTree(tmp);
    inFlight.tmp = undefined;
    lock.release();
    inFlight.lock = undefined;
  }
}

/**
 * `params.json` for every stage (as timm writes args.yaml): stage, params, package versions, and
 * what the stage recorded (its backend). Written after the stage ran, into the entry being made.
 */
function writeProvenance(dir: string, spec: TaskSpec, params: unknown, recorded: Record<string, unknown>): void {
  if (existsSync(join(dir, TASK_PARAMS_FILE))) {
    throw new UserError(`task ${spec.name}: stage ${spec.stage} wrote ${TASK_PARAMS_FILE}, which the task runner writes (the task's provenance)`, `name the file otherwise; a stage adds to the provenance with ctx.record({...})`);
  }
  writeTaskParamsFile(dir, { ...recorded, stage: spec.stage, params: params as Record<string, unknown>, versions: packageVersions(provenancePackages) });
}

/**
 * The spec's params checked again against the stage's schema in this process: a spec written by
 * another version of the stage (a shared cache, an edited spec file) fails here, naming the param,
 * instead of running with values the stage never validated.
 */
function checkedParams(spec: TaskSpec, def: StageDef): unknown {
  const parsed = def.params.safeParse(spec.params);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const at = issue.path.length ? `param "${issue.path.join('.')}"` : 'params';
  throw new UserError(`task ${spec.name}: ${at} does not fit stage ${spec.stage}: ${issue.message}`, 'the task spec was written by a different version of the stage: rerun lw run to plan it again');
}

/**
 * The share of the machine the executor gave this task: CPU threads from LW_TASK_THREADS (the
 * local executor: cores / jobs), else the Slurm allocation's SLURM_CPUS_PER_TASK, else 1; GPU ids
 * from LW_TASK_GPUS.
 */
export function machineShare(env: NodeJS.ProcessEnv): { threads: number; gpus: string[] } {
  const threads = Number(env.LW_TASK_THREADS || env.SLURM_CPUS_PER_TASK || 1);
  const gpus = env.LW_TASK_GPUS?.trim();
  return { threads: Number.isInteger(threads) && threads > 0 ? threads : 1, gpus: gpus ? gpus.split(',') : [] };
}

/** Waits for the lock; returns undefined if the entry appeared meanwhile (another run made it). */
async function acquire(cache: Cache, key: string, signal: AbortSignal): Promise<Lock | undefined> {
  for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
    const lock = tryLock(cache.lockPath(key));
    if (lock) return lock;
    if (cache.has(key)) return undefined;
    if (signal.aborted) throw new Error('cancelled');
    await new Promise((r) => setTimeout(r, wait));
  }
}

/** The stage's inputs, each entry checked against its checksums.json first (once per entry). */
function resolveInputs(cache: Cache, spec: TaskSpec): Record<string, StageInput> {
  const checked = new Set<string>();
  const toResult = (input: string, r: InputRef): TaskResult & { name: string } => {
    const dir = cache.entryDir(r.key);
    if (!existsSync(dir)) throw new UserError(`task ${spec.name}: input ${r.name} (${r.key.slice(0, 12)}) is not in the cache ${cache.dir}`, 'run its stage first (lw run runs dependencies in order)');
    if (!checked.has(r.key)) {
      assertIntact(cache, spec, input, r);
      checked.add(r.key);
    }
    return { dir, key: r.key, stage: r.stage, params: r.params, condition: r.condition, name: r.name, ...(r.epoch === undefined ? {} : { epoch: r.epoch }) };
  };
  return Object.fromEntries(Object.entries(spec.inputs).map(([k, v]) => [k, Array.isArray(v) ? v.map((r) => toResult(k, r)) : toResult(k, v)]));
}

/**
 * A corrupted input is never consumed. `lw run` checks cached entries before it schedules
 * anything (and recomputes corrupted ones); this catches an entry that changed after that, or
 * one a `lw task` of another executor is about to read. The entry is removed, so the next run
 * recomputes it, and the task fails naming it.
 */
function assertIntact(cache: Cache, spec: TaskSpec, input: string, r: InputRef): void {
  const { bad } = cache.check(r.key);
  if (bad.length === 0) return;
  let removed: boolean;
  try {
    removed = cache.remove(r.key) || !cache.has(r.key);
  } catch {
    removed = false; // not ours to remove (a shared cache): the message says so
  }
  throw new UserError(
    `task ${spec.name}: input ${input} (${r.name}) is corrupted: files of ${cache.entryDir(r.key)} not matching its checksums.json: ${bad.join(', ')}`,
    removed ? 'the entry was removed: run lw run again to recompute it (lw verify checks the whole cache)' : 'remove the entry as its owner (lw verify), then run lw run again to recompute it',
  );
}
