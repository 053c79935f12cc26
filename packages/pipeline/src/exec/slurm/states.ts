/**
 * Slurm's view of our jobs, parsed from the three tools that can give it, and mapped to what a task
 * is: waiting, running, succeeded or failed (with a reason a person can act on).
 * Every parser takes the tool's raw stdout; the formats are fixed by the argv in `poll.ts`.
 */

/** One job or one array task: id `123` or `123_4`. */
export interface JobStatus {
  id: string;
  /** Base state, upper case: `PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `TIMEOUT`, ... */
  state: string;
  /** Slurm's reason (`Dependency`, `NonZeroExitCode`, `None`), '' when not given. */
  reason: string;
  /** `exit:signal` as Slurm prints it (`1:0`, `0:9`), when the tool gives it. */
  exitCode?: string;
}

/** The squeue format these parsers expect: job id, state, reason (`%r` never holds a `|`). */
export const SQUEUE_FORMAT = '%i|%T|%r';
/** The sacct fields (with `-n -P -X`): job id, state (may read `CANCELLED by 0`), exit code, reason. */
export const SACCT_FIELDS = 'JobID,State,ExitCode,Reason';

/**
 * `123_[5-9%2]` or `123_[1,3-4]` (array tasks not yet started, shown as one line) -> each task id.
 * Plain ids come back unchanged.
 */
export function expandJobId(id: string): string[] {
  const m = /^(\d+)_\[([^\]]+)\]$/.exec(id);
  if (!m) return [id];
  const ranges = m[2].split('%')[0];
  const ids: string[] = [];
  for (const part of ranges.split(',')) {
    // A range may carry a step: `1-9:2`.
    const [range, step = '1'] = part.split(':');
    const [from, to = from] = range.split('-').map(Number);
    for (let i = from; i <= to; i += Number(step)) ids.push(`${m[1]}_${i}`);
  }
  return ids;
}

function baseState(state: string): string {
  // sacct writes `CANCELLED by 0`; squeue can append `+` for a job being requeued.
  return state.trim().split(/\s+/)[0].replace(/\+$/, '').toUpperCase();
}

/** `squeue --states=all -h -o '%i|%T|%r'` */
export function parseSqueue(stdout: string): JobStatus[] {
  const out: JobStatus[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const [id, state = '', reason = ''] = line.trim().split('|');
    for (const one of expandJobId(id)) out.push({ id: one, state: baseState(state), reason: reason.trim() });
  }
  return out;
}

/** `sacct -n -P -X -j IDS -o JobID,State,ExitCode,Reason` */
export function parseSacct(stdout: string): JobStatus[] {
  const out: JobStatus[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const [id, state = '', exitCode = '', reason = ''] = line.trim().split('|');
    for (const one of expandJobId(id)) out.push({ id: one, state: baseState(state), reason: reason.trim(), exitCode });
  }
  return out;
}

/**
 * `scontrol -o show job ID`: one line per job (per array task), `Key=Value` words. Values such as
 * WorkDir may hold blanks, so a value runs up to the next ` Key=`.
 */
export function parseScontrolFields(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const keyAt = /(?:^|\s)([A-Za-z][A-Za-z0-9_:/]*)=/g;
  const marks: { key: string; start: number; valueStart: number }[] = [];
  for (let m = keyAt.exec(line); m; m = keyAt.exec(line)) {
    marks.push({ key: m[1], start: m.index, valueStart: m.index + m[0].length });
  }
  marks.forEach((mark, i) => {
    const end = i + 1 < marks.length ? marks[i + 1].start : line.length;
    fields[mark.key] ??= line.slice(mark.valueStart, end).trim();
  });
  return fields;
}

export function parseScontrol(stdout: string): JobStatus[] {
  const out: JobStatus[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim().startsWith('JobId=')) continue;
    const f = parseScontrolFields(line.trim());
    const arrayTask = f.ArrayTaskId;
    const ids =
      f.ArrayJobId && arrayTask !== undefined ? expandJobId(`${f.ArrayJobId}_[${arrayTask}]`) : [f.JobId];
    for (const id of ids) out.push({ id, state: baseState(f.JobState ?? ''), reason: f.Reason ?? '', exitCode: f.ExitCode });
  }
  return out;
}

export type JobPhase =
  | { phase: 'waiting'; reason: string }
  | { phase: 'running' }
  | { phase: 'completed' }
  /** `upstream`: it never ran because a job it depends on failed. `cancelled`: by scancel.
   *  `resumable`: a rerun continues from the task's last checkpoint. */
  | { phase: 'failed'; reason: string; upstream?: boolean; cancelled?: boolean; resumable?: boolean };

const WAITING = new Set(['PENDING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_FED', 'REQUEUE_HOLD', 'RESIZING', 'SUSPENDED']);
const RUNNING = new Set(['RUNNING', 'COMPLETING', 'STAGE_OUT', 'SIGNALING']);

function exitText(s: JobStatus): string {
  if (!s.exitCode) return '';
  const [code, signal] = s.exitCode.split(':');
  if (signal && signal !== '0') return ` (killed by signal ${signal})`;
  return code && code !== '0' ? ` (exit code ${code})` : '';
}

const RESUME_HINT = 'rerun to resubmit it: training resumes from its last epoch checkpoint';

/** What a Slurm state means for the task, with the reason shown to the user. */
export function jobPhase(s: JobStatus): JobPhase {
  const why = s.reason && s.reason !== 'None' ? s.reason : '';
  if (WAITING.has(s.state)) {
    // Without kill_invalid_depend a dependent of a failed job stays PENDING forever with this reason.
    if (why === 'DependencyNeverSatisfied') return { phase: 'failed', upstream: true, reason: 'a job it depends on failed' };
    return { phase: 'waiting', reason: why || s.state.toLowerCase() };
  }
  if (RUNNING.has(s.state)) return { phase: 'running' };
  switch (s.state) {
    case 'COMPLETED':
      return { phase: 'completed' };
    case 'FAILED':
      return { phase: 'failed', reason: `Slurm job failed${exitText(s)}${why && why !== 'NonZeroExitCode' ? `: ${why}` : ''}` };
    case 'OUT_OF_MEMORY':
      return { phase: 'failed', reason: 'ran out of memory: raise `mem` for this stage' };
    case 'TIMEOUT':
      return { phase: 'failed', resumable: true, reason: `hit its time limit: raise \`time\` or ${RESUME_HINT}` };
    case 'PREEMPTED':
      return { phase: 'failed', resumable: true, reason: `preempted by Slurm: ${RESUME_HINT}` };
    case 'NODE_FAIL':
      return { phase: 'failed', resumable: true, reason: `its node failed: ${RESUME_HINT}` };
    case 'BOOT_FAIL':
      return { phase: 'failed', resumable: true, reason: `its node failed to boot: ${RESUME_HINT}` };
    case 'DEADLINE':
      return { phase: 'failed', reason: 'passed its deadline before it could run' };
    case 'CANCELLED':
      if (why.startsWith('Dependency')) return { phase: 'failed', upstream: true, reason: 'a job it depends on failed' };
      return { phase: 'failed', cancelled: true, reason: 'cancelled in Slurm (lw cancel, scancel or an administrator)' };
    default:
      return { phase: 'failed', reason: `Slurm state ${s.state}${why ? ` (${why})` : ''}` };
  }
}
