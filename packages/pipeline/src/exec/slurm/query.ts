import { parseSacct, parseScontrol, parseSqueue, type JobStatus, SACCT_FIELDS, SQUEUE_FORMAT } from './states.js';
import type { RunTool } from './tools.js';

/**
 * Asks Slurm for the state of some jobs. squeue (`--states=all`) sees running jobs and finished
 * ones for MinJobAge; sacct sees older ones but only with an accounting database (plain sacct
 * fails without one), so it is probed once and then used only for jobs squeue no longer knows.
 * scontrol adds the exit code of failed jobs, which squeue does not show.
 */
export class JobQuery {
  private sacctWorks: boolean | undefined;

  constructor(private readonly run: RunTool) {}

  /** Job id (`12`, `12_3`) -> status, for every job or array task Slurm still knows among `jobIds`
   *  (ids of array jobs as submitted: `12` returns all of `12_0`, `12_1`, ...). */
  async states(jobIds: readonly string[]): Promise<Map<string, JobStatus>> {
    const out = new Map<string, JobStatus>();
    if (!jobIds.length) return out;
    const ids = [...new Set(jobIds)].join(',');
    const squeue = await this.run(['squeue', '--states=all', '-h', '-o', SQUEUE_FORMAT, '-j', ids]);
    // With only unknown ids squeue exits 1 ("Invalid job id specified"): they all vanished.
    if (squeue.code !== 0 && !/invalid job id/i.test(squeue.stderr)) {
      throw new Error(`squeue failed (exit ${squeue.code}): ${squeue.stderr.trim()}`);
    }
    for (const s of parseSqueue(squeue.stdout)) out.set(s.id, s);
    await this.addExitCodes(out);
    const missing = jobIds.filter((id) => !out.has(id) && ![...out.keys()].some((k) => k.startsWith(`${id}_`)));
    if (missing.length && (await this.sacctAvailable())) {
      const sacct = await this.run(['sacct', '-n', '-P', '-X', '-o', SACCT_FIELDS, '-j', missing.join(',')]);
      if (sacct.code === 0) for (const s of parseSacct(sacct.stdout)) out.set(s.id, s);
    }
    return out;
  }

  /** squeue has no exit code; for a failed job scontrol tells it (`exit code 3`, `signal 9`). */
  private async addExitCodes(statuses: Map<string, JobStatus>): Promise<void> {
    const failed = [...statuses.values()].filter((s) => s.state === 'FAILED' && s.exitCode === undefined);
    for (const id of new Set(failed.map((s) => s.id.split('_')[0]))) {
      const shown = await this.run(['scontrol', '-o', 'show', 'job', id]);
      if (shown.code !== 0) continue;
      for (const s of parseScontrol(shown.stdout)) {
        const known = statuses.get(s.id);
        if (known && known.exitCode === undefined) known.exitCode = s.exitCode;
      }
    }
  }

  private async sacctAvailable(): Promise<boolean> {
    if (this.sacctWorks === undefined) {
      const probe = await this.run(['sacct', '-n', '-X', '-o', 'JobID', '-j', '1']);
      this.sacctWorks = probe.code === 0;
    }
    return this.sacctWorks;
  }
}

/** Waits between polls: start at `min`, grow by half while nothing changes, back to `min` on news. */
export class Backoff {
  private current: number;
  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    this.current = minMs;
  }
  next(): number {
    const wait = this.current;
    this.current = Math.min(this.maxMs, this.current * 1.5);
    return wait;
  }
  reset(): void {
    this.current = this.minMs;
  }
}
