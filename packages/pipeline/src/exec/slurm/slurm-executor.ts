import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sha256, UserError } from '@lw/core';
import { taskCommand, type ExecEvent, type ExecPoll, type ExecTask, type Executor } from '../executor.js';
import { stageResources, type SlurmExecutorConfig } from './config.js';
import { arrayLogDir, entryExists, jobDir, readProgress, slurmLogPath } from './files.js';
import { planJobs, type JobRef, type KnownDep, type PlannedJob } from './plan.js';
import { Backoff, JobQuery } from './query.js';
import { newRunState, runStatePath, writeRunState, type RunState } from './run-state.js';
import { describeSbatch, jobName, jobScript, sbatchArgv, type SbatchJob } from './sbatch.js';
import { shellQuote } from './quote.js';
import { jobPhase } from './states.js';
import { runTool, type RunTool } from './tools.js';

export interface SlurmExecutorOptions {
  /** Absolute path of the cache; it must be on a file system the compute nodes see. */
  cacheDir: string;
  /** The pipeline's `name:` (goes into job names) and its file (keys the run state for `lw cancel`). */
  pipeline: string;
  pipelineFile: string;
  config: SlurmExecutorConfig;
  /** Working directory of the jobs; default: the current one, as for the local executor. */
  workDir?: string;
  /** `packages/pipeline/bin/lw.js`; default: this checkout's. */
  lwBin?: string;
  /** Runs Slurm's tools; default: the real ones. */
  run?: RunTool;
  /** Lines worth a person's eye (each sbatch call); default: none. */
  log?: (line: string) => void;
}

/** A task this executor has submitted, and what it last reported about it. */
interface Tracked {
  task: ExecTask;
  /** The id squeue shows for it: `12`, or `12_3` for array task 3. */
  jobId: string;
  /** The id to query and scancel: the array job `12` for all its tasks. */
  submittedId: string;
  started: boolean;
  outcome?: 'succeeded' | 'failed' | 'skipped' | 'cancelled';
  progress?: string;
  /** When Slurm first said the job ended well but its entry was not visible yet. */
  endedWithoutEntry?: number;
}

/**
 * The Slurm executor: every batch of tasks is submitted at once as sbatch jobs chained with
 * `--dependency=afterok` (matrix stages as arrays), then polled with squeue/scontrol.
 * Success is an entry in the shared cache, never just a Slurm state.
 */
export class SlurmExecutor implements Executor {
  readonly name = 'slurm';
  private readonly tracked = new Map<string, Tracked>();
  private readonly events: ExecEvent[] = [];
  private readonly query: JobQuery;
  private readonly backoff: Backoff;
  private readonly run: RunTool;
  private readonly state: RunState;
  private readonly statePath: string;
  private nextQueryAt = 0;
  /** Set by `cancel`: a submit still in progress stops and takes back what it submitted. */
  private cancelledBecause: string | undefined;

  constructor(private readonly opts: SlurmExecutorOptions) {
    this.run = opts.run ?? runTool;
    this.query = new JobQuery(this.run);
    this.backoff = new Backoff(opts.config.poll.minSeconds * 1000, opts.config.poll.maxSeconds * 1000);
    this.statePath = runStatePath(opts.cacheDir, opts.pipelineFile);
    this.state = newRunState(opts.pipelineFile, opts.pipeline);
  }

  async submit(tasks: ExecTask[]): Promise<void> {
    const plan = planJobs(tasks, { arrays: this.opts.config.arrays, known: (key) => this.known(key) });
    for (const { task, because } of plan.skipped) {
      this.untracked(task, { type: 'skipped', key: task.key, reason: `dependency ${this.nameOf(because)} failed` });
    }
    const ids: string[] = [];
    for (const job of plan.jobs) {
      if (this.cancelledBecause !== undefined) {
        for (const t of job.tasks) this.untracked(t, { type: 'cancelled', key: t.key, reason: this.cancelledBecause });
        continue;
      }
      const resolved = job.afterOk.map((ref) => resolveRef(ref, ids));
      if (resolved.includes(undefined)) {
        // sbatch refused a job this one waits for: never submit it.
        ids.push('');
        for (const t of job.tasks) this.untracked(t, { type: 'skipped', key: t.key, reason: this.upstreamReason(t) });
        continue;
      }
      const afterOk = resolved as string[];
      const request = this.writeJobFiles(job, afterOk);
      const argv = sbatchArgv(request);
      this.opts.log?.(describeSbatch(argv));
      const result = await this.run(argv);
      if (result.code === 127) {
        throw new UserError(
          'sbatch was not found on PATH: the Slurm executor needs Slurm\'s client tools (sbatch, squeue, scancel)',
          'run `lw run --executor slurm` on a login node of the cluster, or use the local executor',
        );
      }
      // --parsable prints `jobid` or `jobid;cluster`.
      const id = result.stdout.trim().split(';')[0];
      if (result.code !== 0 || !/^\d+$/.test(id)) {
        ids.push('');
        const reason = `sbatch refused the job: ${(result.stderr || result.stdout).trim() || `exit ${result.code}`}`;
        for (const t of job.tasks) this.untracked(t, { type: 'failed', key: t.key, reason });
        continue;
      }
      ids.push(id);
      job.tasks.forEach((t, i) => {
        this.tracked.set(t.key, { task: t, jobId: job.array ? `${id}_${i}` : id, submittedId: id, started: false });
      });
      this.state.jobs.push({ id, name: request.name, keys: job.tasks.map((t) => t.key) });
      writeRunState(this.statePath, this.state);
      // Cancelled while this sbatch ran: cancel() could not see the job yet.
      if (this.cancelledBecause !== undefined) await this.cancel(this.cancelledBecause);
    }
    this.backoff.reset();
    this.nextQueryAt = Date.now() + this.backoff.next();
  }

  async poll(waitMs?: number): Promise<ExecPoll> {
    const deadline = waitMs === undefined ? Infinity : Date.now() + waitMs;
    for (;;) {
      if (this.events.length) return { events: this.events.splice(0), settled: this.settled() };
      if (this.settled()) return { events: [], settled: true };
      // squeue is asked at most once per back-off step, however often the runner polls.
      if (Date.now() >= this.nextQueryAt) {
        await this.refresh();
        if (this.events.length) this.backoff.reset();
        this.nextQueryAt = Date.now() + this.backoff.next();
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) return { events: [], settled: false };
      await sleep(Math.min(this.nextQueryAt - Date.now(), left));
    }
  }

  async cancel(reason: string): Promise<void> {
    this.cancelledBecause ??= reason;
    const active = this.active();
    const ids = [...new Set(active.map((t) => t.submittedId).filter(Boolean))];
    if (ids.length) {
      await this.run(['scancel', ...ids]);
      await this.waitUntilEnded(ids);
    }
    for (const t of active) {
      // A task that published its entry just before the scancel did finish.
      if (entryExists(this.opts.cacheDir, t.task.key)) this.succeed(t);
      else this.finish(t.task.key, { type: 'cancelled', key: t.task.key, reason });
    }
  }

  /**
   * After scancel a job stays COMPLETING until its processes are gone (up to Slurm's KillWait).
   * Waiting for that means that when `lw run` returns, nothing of it still runs, and a rerun
   * cannot meet a dying task still writing its checkpoint.
   */
  private async waitUntilEnded(ids: string[], limitMs = 120_000): Promise<void> {
    const until = Date.now() + limitMs;
    while (Date.now() < until) {
      let states;
      try {
        states = await this.query.states(ids);
      } catch {
        return;
      }
      const alive = [...states.values()].some((s) => {
        const phase = jobPhase(s).phase;
        return phase === 'running' || (phase === 'waiting' && s.state !== 'PENDING');
      });
      if (!alive) return;
      await sleep(300);
    }
    this.opts.log?.(`slurm: jobs ${ids.join(' ')} still ending after scancel; not waiting longer`);
  }

  /**
   * The sbatch commands `submit` would run, as a shell script: `JOB2=$(sbatch ... afterok:"$JOB1" ...)`
   * (with `--parsable`, sbatch prints the id the next lines use). Job scripts are written only on
   * submission, so their paths here name directories that do not exist yet.
   */
  dryRun(all: ExecTask[], cached: ReadonlySet<string>): string[] {
    const opts = this.opts;
    const tasks = all.filter((t) => !cached.has(t.key)).map((t) => ({ ...t, deps: t.deps.filter((d) => !cached.has(d)) }));
    const plan = planJobs(tasks, { arrays: opts.config.arrays, known: () => undefined });
    const ids = plan.jobs.map((j) => `${JOB_MARK}${j.index + 1}${JOB_MARK}`);
    return plan.jobs.map((job) => {
      const afterOk = job.afterOk.map((ref) => resolveRef(ref, ids) ?? '');
      const argv = sbatchArgv(sbatchRequest(job, afterOk, opts, `dry-run-${job.index + 1}`));
      return `JOB${job.index + 1}=$(${argv.map(quoteWithJobVars).join(' ')})`;
    });
  }

  private known(key: string): KnownDep | undefined {
    const t = this.tracked.get(key);
    if (!t) return undefined;
    if (t.outcome === 'succeeded') return { done: 'succeeded' };
    if (t.outcome) return { done: 'failed', reason: t.outcome };
    return { jobId: t.jobId };
  }

  private writeJobFiles(job: PlannedJob, afterOk: string[]): SbatchJob {
    const { cacheDir } = this.opts;
    const dirName = `${job.stageName.replace(/[^A-Za-z0-9_.-]/g, '_')}-${sha256(
      `${job.tasks.map((t) => t.key).join(',')}|${Date.now()}|${process.pid}`,
    ).slice(0, 12)}`;
    const request = sbatchRequest(job, afterOk, this.opts, dirName);
    const dir = jobDir(cacheDir, dirName);
    mkdirSync(dir, { recursive: true });
    mkdirSync(join(cacheDir, 'logs'), { recursive: true });
    const taskArgv = (key: string) => taskCommand(key, cacheDir, this.opts.lwBin);
    if (job.array) {
      const keysFile = join(dir, 'keys.txt');
      writeFileSync(keysFile, `${job.tasks.map((t) => t.key).join('\n')}\n`);
      writeFileSync(request.scriptPath, jobScript({ name: request.name, taskArgv, keysFile }));
      const logDir = arrayLogDir(cacheDir, dirName);
      mkdirSync(logDir, { recursive: true });
      // logs/<key>.out -> arrays/<job>/<index>.out: one log path per task, whatever ran it.
      job.tasks.forEach((t, i) => {
        const link = slurmLogPath(cacheDir, t.key);
        rmSync(link, { force: true });
        symlinkSync(relative(join(cacheDir, 'logs'), join(logDir, `${i}.out`)), link);
      });
    } else {
      const key = job.tasks[0].key;
      // A link left by an earlier array run would make Slurm write into that array's file.
      rmSync(slurmLogPath(cacheDir, key), { force: true });
      writeFileSync(request.scriptPath, jobScript({ name: request.name, taskArgv, key }));
    }
    chmodSync(request.scriptPath, 0o755);
    return request;
  }

  private async refresh(): Promise<void> {
    const active = this.active().filter((t) => t.submittedId);
    if (!active.length) return;
    let states;
    try {
      states = await this.query.states([...new Set(active.map((t) => t.submittedId))]);
    } catch (e) {
      // The controller may be restarting or busy: keep the jobs and ask again after the back-off.
      this.opts.log?.(`slurm: ${(e as Error).message}; retrying`);
      return;
    }
    const upstreamPending: string[] = [];
    for (const t of active) {
      const status = states.get(t.jobId);
      if (!status) {
        // Gone from squeue (and sacct): the cache alone says whether it finished.
        this.settleByCache(t, 'its Slurm job vanished from squeue without publishing a result');
        continue;
      }
      const phase = jobPhase(status);
      if (phase.phase === 'waiting') continue;
      if (phase.phase === 'running') {
        this.start(t);
        this.reportProgress(t);
      } else if (phase.phase === 'completed') {
        this.settleByCache(t, 'its Slurm job completed but no result is in the cache');
      } else if (entryExists(this.opts.cacheDir, t.task.key)) {
        this.succeed(t);
      } else if (phase.cancelled) {
        this.finish(t.task.key, { type: 'cancelled', key: t.task.key, reason: `${phase.reason} (slurm job ${t.jobId})` });
      } else if (phase.upstream) {
        if (status.state === 'PENDING') upstreamPending.push(t.jobId);
        this.finish(t.task.key, { type: 'skipped', key: t.task.key, reason: this.upstreamReason(t.task) });
      } else {
        this.fail(t, phase.reason);
      }
    }
    // Clusters without kill_invalid_depend keep such jobs pending forever: remove them.
    if (upstreamPending.length) await this.run(['scancel', ...upstreamPending]);
  }

  /**
   * A job that ended without an error: the entry decides. On NFS a directory published on the
   * compute node can take a while to show here, so a missing entry fails only after a grace time.
   */
  private settleByCache(t: Tracked, reason: string): void {
    if (entryExists(this.opts.cacheDir, t.task.key)) return this.succeed(t);
    t.endedWithoutEntry ??= Date.now();
    if (Date.now() - t.endedWithoutEntry >= this.opts.config.poll.sharedFsGraceSeconds * 1000) this.fail(t, reason);
  }

  private upstreamReason(task: ExecTask): string {
    const failed = task.deps.find((d) => {
      const o = this.tracked.get(d)?.outcome;
      return o === 'failed' || o === 'skipped' || o === 'cancelled';
    });
    return failed ? `dependency ${this.nameOf(failed)} failed` : 'a job it depends on failed';
  }

  private start(t: Tracked): void {
    if (t.started) return;
    t.started = true;
    this.events.push({ type: 'started', key: t.task.key, where: `slurm job ${t.jobId}` });
  }

  private reportProgress(t: Tracked): void {
    const p = readProgress(this.opts.cacheDir, t.task.key);
    const seen = p && JSON.stringify(p);
    if (!p || seen === t.progress) return;
    t.progress = seen;
    this.events.push({ type: 'progress', key: t.task.key, ...p });
  }

  private succeed(t: Tracked): void {
    this.start(t);
    this.finish(t.task.key, { type: 'succeeded', key: t.task.key });
  }

  private fail(t: Tracked, reason: string): void {
    this.start(t);
    const logPath = slurmLogPath(this.opts.cacheDir, t.task.key);
    this.finish(t.task.key, { type: 'failed', key: t.task.key, reason: `${reason} (slurm job ${t.jobId})`, logPath });
  }

  /** A task that never became a Slurm job, with its final event. */
  private untracked(task: ExecTask, event: Extract<ExecEvent, { type: 'failed' | 'skipped' | 'cancelled' }>): void {
    this.tracked.set(task.key, { task, jobId: '', submittedId: '', started: false });
    this.finish(task.key, event);
  }

  private finish(key: string, event: Extract<ExecEvent, { type: 'succeeded' | 'failed' | 'skipped' | 'cancelled' }>): void {
    const t = this.tracked.get(key);
    if (!t || t.outcome) return;
    t.outcome = event.type;
    this.events.push(event);
  }

  private active(): Tracked[] {
    return [...this.tracked.values()].filter((t) => !t.outcome);
  }

  private settled(): boolean {
    return this.active().length === 0;
  }

  private nameOf(key: string): string {
    return this.tracked.get(key)?.task.name ?? key.slice(0, 12);
  }
}

// Stands for `$JOBn` in dry-run words until they are quoted.
const JOB_MARK = '\u0002';

/** A word single-quoted except its `$JOBn` parts, which stay expandable: `'--dependency=afterok:'"$JOB1"`. */
function quoteWithJobVars(word: string): string {
  const parts = word.split(JOB_MARK);
  // Odd positions are job numbers between two marks.
  return parts.map((p, i) => (i % 2 ? `"$JOB${p}"` : p ? shellQuote(p) : '')).join('') || shellQuote('');
}

/** The Slurm id a ref stands for; undefined when sbatch refused that job. */
function resolveRef(ref: JobRef, ids: readonly string[]): string | undefined {
  if ('submitted' in ref) return ref.submitted;
  const id = ids[ref.planned];
  if (!id) return undefined;
  return ref.task === undefined ? id : `${id}_${ref.task}`;
}

function sbatchRequest(job: PlannedJob, afterOk: string[], opts: SlurmExecutorOptions, dirName: string): SbatchJob {
  const { cacheDir, config } = opts;
  const resources = stageResources(config, job.stageName);
  const label = job.array ? `${job.stageName}[${job.tasks.length} tasks]` : job.tasks[0].name;
  if (!cacheDir.startsWith('/')) {
    throw new UserError(`the Slurm cache path ${cacheDir} is relative`, 'pass an absolute --cache on a shared file system');
  }
  return {
    name: jobName(opts.pipeline, label),
    resources,
    scriptPath: join(jobDir(cacheDir, dirName), 'job.sh'),
    output: job.array ? { arrayDir: arrayLogDir(cacheDir, dirName) } : { file: slurmLogPath(cacheDir, job.tasks[0].key) },
    workDir: opts.workDir ?? process.cwd(),
    afterOk: afterOk.filter(Boolean),
    ...(job.array ? { array: { size: job.tasks.length, ...(resources.arrayLimit ? { limit: resources.arrayLimit } : {}) } } : {}),
  };
}
