import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expandJobId, jobPhase, parseSacct, parseScontrol, parseScontrolFields, parseSqueue, type JobStatus } from './states.js';

// Fixtures are verbatim output of Slurm 22.05 (Debian 12) on the local test cluster.
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('expandJobId', () => {
  it.each([
    ['123', ['123']],
    ['123_4', ['123_4']],
    ['5_[0-4%2]', ['5_0', '5_1', '5_2', '5_3', '5_4']],
    ['13_[0,2,4,6,8,11%3]', ['13_0', '13_2', '13_4', '13_6', '13_8', '13_11']],
    ['7_[1-3,9]', ['7_1', '7_2', '7_3', '7_9']],
    ['7_[0-6:3]', ['7_0', '7_3', '7_6']],
  ])('%s', (id, ids) => {
    expect(expandJobId(id)).toEqual(ids);
  });
});

describe('parseSqueue', () => {
  it('reads finished jobs and array tasks', () => {
    const byId = new Map(parseSqueue(fixture('squeue-finished.txt')).map((s) => [s.id, s]));
    expect(byId.size).toBe(10);
    expect(byId.get('4')).toEqual({ id: '4', state: 'CANCELLED', reason: 'DependencyNeverSatisfied' });
    expect(byId.get('3')).toEqual({ id: '3', state: 'FAILED', reason: 'NonZeroExitCode' });
    expect(byId.get('5_3')?.state).toBe('FAILED');
    expect(['5_0', '5_1', '5_2', '5_4'].map((id) => byId.get(id)?.state)).toEqual(Array(4).fill('COMPLETED'));
  });

  it('expands the one line of an array whose tasks have not started', () => {
    const rows = parseSqueue(fixture('squeue-held-array.txt'));
    expect(rows.map((r) => r.id)).toEqual(['13_0', '13_2', '13_4', '13_6', '13_8', '13_11']);
    expect(new Set(rows.map((r) => `${r.state}/${r.reason}`))).toEqual(new Set(['PENDING/JobHeldUser']));
  });
});

describe('parseScontrol', () => {
  it('reads state, reason and exit code of a failed job', () => {
    expect(parseScontrol(fixture('scontrol-failed.txt'))).toEqual([
      { id: '3', state: 'FAILED', reason: 'NonZeroExitCode', exitCode: '3:0' },
    ]);
  });

  it('names array tasks by array job and index, not by their own job ids', () => {
    const rows = parseScontrol(fixture('scontrol-array-finished.txt'));
    expect(rows.map((r) => `${r.id}=${r.state}`).sort()).toEqual(
      ['5_0=COMPLETED', '5_1=COMPLETED', '5_2=COMPLETED', '5_3=FAILED', '5_4=COMPLETED'],
    );
  });

  it('expands pending array ranges', () => {
    expect(parseScontrol(fixture('scontrol-held-array.txt')).map((r) => r.id)).toHaveLength(6);
  });

  it('keeps values with blanks whole', () => {
    const f = parseScontrolFields('JobId=9 JobName=x WorkDir=/a b/c StdOut=/a b/out.txt Power=');
    expect(f.WorkDir).toBe('/a b/c');
    expect(f.StdOut).toBe('/a b/out.txt');
    expect(f.Power).toBe('');
  });

  it('reads a job killed at its time limit as resumable', () => {
    const [row] = parseScontrol(fixture('scontrol-timeout.txt'));
    expect(row).toMatchObject({ id: '12', state: 'TIMEOUT', reason: 'TimeLimit' });
    expect(jobPhase(row)).toMatchObject({ phase: 'failed', resumable: true });
  });

  it('sees the dependency that never resolves', () => {
    const [row] = parseScontrol(fixture('scontrol-dependency-never-satisfied.txt'));
    expect(jobPhase(row)).toMatchObject({ phase: 'failed', upstream: true });
  });
});

describe('parseSacct', () => {
  it('reads pipe-separated rows and the `CANCELLED by UID` form', () => {
    expect(parseSacct('12|CANCELLED by 0|0:15|None\n13_2|TIMEOUT|0:0|TimeLimit\n')).toEqual([
      { id: '12', state: 'CANCELLED', reason: 'None', exitCode: '0:15' },
      { id: '13_2', state: 'TIMEOUT', reason: 'TimeLimit', exitCode: '0:0' },
    ]);
  });
});

describe('jobPhase', () => {
  const s = (state: string, reason = 'None', exitCode?: string): JobStatus => ({ id: '1', state, reason, exitCode });
  it.each([
    [s('PENDING', 'Priority'), { phase: 'waiting', reason: 'Priority' }],
    [s('PENDING', 'Dependency'), { phase: 'waiting', reason: 'Dependency' }],
    [s('PENDING', 'DependencyNeverSatisfied'), { phase: 'failed', upstream: true }],
    [s('REQUEUED'), { phase: 'waiting' }],
    [s('RUNNING'), { phase: 'running' }],
    [s('COMPLETING'), { phase: 'running' }],
    [s('COMPLETED'), { phase: 'completed' }],
    [s('FAILED', 'NonZeroExitCode', '3:0'), { phase: 'failed', reason: 'Slurm job failed (exit code 3)' }],
    [s('FAILED', 'NonZeroExitCode', '0:9'), { phase: 'failed', reason: 'Slurm job failed (killed by signal 9)' }],
    [s('TIMEOUT'), { phase: 'failed', resumable: true, reason: expect.stringMatching(/time limit.*resumes from its last epoch checkpoint/) }],
    [s('PREEMPTED'), { phase: 'failed', resumable: true, reason: expect.stringMatching(/preempted/) }],
    [s('NODE_FAIL'), { phase: 'failed', resumable: true, reason: expect.stringMatching(/node failed/) }],
    [s('OUT_OF_MEMORY'), { phase: 'failed', reason: expect.stringMatching(/memory.*mem/) }],
    [s('CANCELLED', 'DependencyNeverSatisfied'), { phase: 'failed', upstream: true }],
    [s('CANCELLED'), { phase: 'failed', cancelled: true }],
    [s('BOOT_FAIL'), { phase: 'failed', resumable: true }],
    [s('DEADLINE'), { phase: 'failed' }],
  ])('%o', (status, expected) => {
    const phase = jobPhase(status);
    expect(phase).toMatchObject(expected);
    if (phase.phase === 'failed' && !('upstream' in expected)) expect(phase.upstream).toBeUndefined();
    if (phase.phase === 'failed' && !('cancelled' in expected)) expect(phase.cancelled).toBeUndefined();
  });
});
