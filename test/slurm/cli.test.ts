import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@lw/core';
import { readRunState, runStatePath } from '@lw/pipeline';
import { needs } from '@lw/core/testing/system-parts';
import { slurm, study, whenRunning } from './helpers.js';

// The same checks through the `lw` command line, as a user (and Ctrl-C) reaches them.
const lw = join(repoRoot(), 'packages/pipeline/bin/lw.js');

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `lw ...` to its end; `onStart` gets its pid. */
function lwRun(args: string[], cwd: string, onStart?: (pid: number) => void): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [lw, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    onStart?.(child.pid!);
  });
}

const lastJson = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!);

const pipeline = (name: string) => `name: ${name}
executor: { type: slurm, poll: { minSeconds: 0.3, maxSeconds: 1 } }
stages:
  sq:
    uses: exec
    matrix: { n: [1, 2] }
    params: { cmd: "echo \${n} > n.txt", outs: [n.txt] }
  slow:
    uses: exec
    inputs: { sq: sq }
    params: { cmd: "sleep \${wait} && touch done", outs: [done] }
vars: { wait: 0 }
`;

describe.skipIf(!needs(slurm))('lw on Slurm, from the command line', () => {
  it('lw run --json reports the run; a rerun submits nothing', async () => {
    const s = study(pipeline('cli-rerun'));
    const first = await lwRun(['run', s.file, '--cache', s.cache.dir, '--json'], s.dir);
    expect(first.code).toBe(0);
    expect(lastJson(first.stdout)).toEqual({ tasks: 3, ran: 3, cached: 0, failed: 0 });
    expect(first.stderr).toMatch(/'sbatch' '--parsable' '--job-name=lw:cli-rerun:sq\[2_tasks\]'/);
    const again = await lwRun(['run', s.file, '--cache', s.cache.dir, '--json', '--executor', 'slurm'], s.dir);
    expect(lastJson(again.stdout)).toEqual({ tasks: 3, ran: 0, cached: 3, failed: 0 });
    expect(again.stderr).not.toMatch(/sbatch/);
  });

  it('Ctrl-C cancels the run\'s jobs and exits 130', async () => {
    const s = study(pipeline('cli-interrupt'));
    let stop = () => {};
    const run = await lwRun(['run', s.file, '--cache', s.cache.dir, '--set', 'wait=60'], s.dir, (pid) => {
      stop = whenRunning('lw:cli-interrupt:slow', () => process.kill(pid, 'SIGINT'));
    }).finally(() => stop());
    expect(run.code, run.stderr).toBe(130);
    const jobs = readRunState(runStatePath(s.cache.dir, s.file), s.file).jobs;
    const slow = jobs.at(-1)!;
    expect(execFileSync('squeue', ['--states=all', '-h', '-o', '%T', '-j', slow.id], { encoding: 'utf8' }).trim()).toBe('CANCELLED');
    expect(s.cache.has(slow.keys[0])).toBe(false);
  });

  it('lw cancel FILE cancels the jobs of a run started elsewhere', async () => {
    const s = study(pipeline('cli-cancel'));
    let cancel: Promise<Exit> | undefined;
    const stop = whenRunning('lw:cli-cancel:slow', () => {
      cancel = lwRun(['cancel', s.file, '--cache', s.cache.dir, '--json'], s.dir);
    });
    const run = await lwRun(['run', s.file, '--cache', s.cache.dir, '--set', 'wait=60', '--json'], s.dir).finally(() => stop());
    expect(cancel, run.stderr).toBeDefined();
    const cancelled = await cancel!;
    expect(cancelled.code).toBe(0);
    const slowJob = readRunState(runStatePath(s.cache.dir, s.file), s.file).jobs.at(-1)!.id;
    expect(lastJson(cancelled.stdout)).toEqual({ cancelled: [slowJob] });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(lastJson(run.stdout)).toEqual({ tasks: 3, ran: 2, cached: 0, failed: 0 });
  });
});
