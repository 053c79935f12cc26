import { existsSync } from 'node:fs';
import { entryExists, slurmLogPath } from './files.js';
import { JobQuery } from './query.js';
import { readRunState, runStatePath } from './run-state.js';
import { jobPhase } from './states.js';
import { runTool, type RunTool } from './tools.js';

/** What `lw status` can say about one task of the last Slurm run of a pipeline file. */
export interface SlurmTaskStatus {
  /** `12` or `12_3` for an array task. */
  jobId: string;
  /** `waiting`, `running`, `succeeded`, `failed` (or `unknown` once Slurm has forgotten the job). */
  state: 'waiting' | 'running' | 'succeeded' | 'failed' | 'unknown';
  /** Slurm's reason for a waiting or failed job (`Dependency`, `hit its time limit: ...`). */
  reason?: string;
  /** The job's log, `<cache>/logs/<key>.out`, when it exists. */
  logPath?: string;
}

/**
 * Key -> Slurm status for every task the last `lw run FILE --executor slurm` on this cache
 * submitted; empty when there was no such run. Asks squeue once.
 */
export async function slurmTaskStatus(opts: { cacheDir: string; pipelineFile: string; run?: RunTool }): Promise<Map<string, SlurmTaskStatus>> {
  const out = new Map<string, SlurmTaskStatus>();
  const path = runStatePath(opts.cacheDir, opts.pipelineFile);
  if (!existsSync(path)) return out;
  const state = readRunState(path, opts.pipelineFile);
  let jobs: Awaited<ReturnType<JobQuery['states']>>;
  try {
    jobs = await new JobQuery(opts.run ?? runTool).states(state.jobs.map((j) => j.id));
  } catch {
    // No controller reachable from here: the cache and the logs still tell something.
    jobs = new Map();
  }
  for (const job of state.jobs) {
    job.keys.forEach((key, i) => {
      const jobId = job.keys.length > 1 || jobs.has(`${job.id}_0`) ? `${job.id}_${i}` : job.id;
      const log = slurmLogPath(opts.cacheDir, key);
      const logPath = existsSync(log) ? log : undefined;
      const slurm = jobs.get(jobId);
      if (entryExists(opts.cacheDir, key)) return out.set(key, { jobId, state: 'succeeded', logPath });
      if (!slurm) return out.set(key, { jobId, state: 'unknown', logPath });
      const phase = jobPhase(slurm);
      if (phase.phase === 'waiting') out.set(key, { jobId, state: 'waiting', reason: phase.reason, logPath });
      else if (phase.phase === 'running') out.set(key, { jobId, state: 'running', logPath });
      else if (phase.phase === 'completed') out.set(key, { jobId, state: 'unknown', reason: 'completed without a result in the cache', logPath });
      else out.set(key, { jobId, state: 'failed', reason: phase.reason, logPath });
    });
  }
  return out;
}
