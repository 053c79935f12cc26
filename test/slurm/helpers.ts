import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cache, runPipeline, slurmExecutorFactory, slurmReachable, type RunSummary } from '@lw/pipeline';
import { slurmPart } from '@lw/core/testing/system-parts';

/** A Slurm controller this machine reaches; CI (`.ci/run`) starts one and sets LW_REQUIRE_SLURM. Test files call `needs(slurm)`. */
export const slurm = slurmPart(await slurmReachable());

/** Fast polling for jobs that last seconds; a real study keeps the defaults (1 s growing to 30 s). */
export const EXECUTOR = 'executor: { type: slurm, poll: { minSeconds: 0.3, maxSeconds: 1 } }';

export interface Study {
  dir: string;
  file: string;
  cache: Cache;
}

/** A pipeline file in a fresh directory (its name may hold hostile characters) with its own cache. */
export function study(yaml: string, opts: { dirName?: string; cacheName?: string } = {}): Study {
  const root = mkdtempSync(join(tmpdir(), 'lw-slurm-'));
  const dir = join(root, opts.dirName ?? 'study');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(file, yaml);
  return { dir, file, cache: new Cache(join(root, opts.cacheName ?? 'cache')) };
}

export interface SlurmRun {
  summary: RunSummary;
  /** What the run view printed (progress lines). */
  output: string;
  /** How many Slurm executors `lw run` created (0 when everything was cached). */
  executors: number;
}

export async function runOnSlurm(s: Study, opts: { signal?: AbortSignal } = {}): Promise<SlurmRun> {
  let output = '';
  let executors = 0;
  const summary = await runPipeline({
    file: s.file,
    cache: s.cache,
    // Beside the study's cache, not .lw/results of the working directory (the repository).
    resultsRoot: join(s.cache.dir, '..', 'results'),
    signal: opts.signal,
    stream: {
      write: (text: string) => {
        output += text;
      },
    },
    executor: (plan) => {
      executors++;
      return slurmExecutorFactory(plan, { cache: s.cache });
    },
  });
  return { summary, output, executors };
}

/** The key of the task with this name. */
export function keyOf(run: SlurmRun, name: string): string {
  const task = run.summary.plan.tasks.find((t) => t.name === name);
  if (!task) throw new Error(`no task ${name} in ${run.summary.plan.tasks.map((t) => t.name).join(', ')}`);
  return task.key;
}

/** Calls `then` once a job of this name is RUNNING in Slurm (checked every 200 ms); returns a stop function. */
export function whenRunning(jobName: string, then: () => void): () => void {
  const timer = setInterval(() => {
    const running = execFileSync('squeue', ['-h', '-t', 'R', '-o', '%j'], { encoding: 'utf8' }).split('\n');
    if (running.includes(jobName)) {
      clearInterval(timer);
      then();
    }
  }, 200);
  return () => clearInterval(timer);
}
