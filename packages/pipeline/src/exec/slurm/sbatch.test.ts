import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobName, jobScript, sanitizeJobName, sbatchArgv, type SbatchJob } from './sbatch.js';

const base: SbatchJob = {
  name: 'lw:study:baseline',
  resources: {},
  scriptPath: '/c/slurm/jobs/b/job.sh',
  output: { file: '/c/logs/k.out' },
  workDir: '/w',
  afterOk: [],
};

describe('sbatchArgv', () => {
  it('has the flags every job needs and nothing else', () => {
    expect(sbatchArgv(base)).toEqual([
      'sbatch', '--parsable', '--job-name=lw:study:baseline', '--chdir=/w', '--output=/c/logs/k.out',
      '--kill-on-invalid-dep=yes', '/c/slurm/jobs/b/job.sh',
    ]);
  });

  it.each([
    [{ partition: 'gpu' }, ['--partition=gpu']],
    [{ account: 'lab', qos: 'high' }, ['--account=lab', '--qos=high']],
    [{ time: '4:00:00', cpus: 4, mem: '16G' }, ['--time=4:00:00', '--cpus-per-task=4', '--mem=16G']],
    [{ time: 90 }, ['--time=90']],
    [{ gpus: 1 }, ['--gres=gpu:1']],
    [{ gpus: 'a100:2' }, ['--gres=gpu:a100:2']],
    [{ gpus: 2, gpuFlag: 'gpus' as const }, ['--gpus=2']],
    [{ extra: ['--constraint=a100', '--exclusive'] }, ['--constraint=a100', '--exclusive']],
  ])('resources %o', (resources, flags) => {
    const argv = sbatchArgv({ ...base, resources });
    expect(argv.slice(6, -1)).toEqual(flags);
  });

  it('chains dependencies with afterok and throttles arrays', () => {
    const argv = sbatchArgv({ ...base, afterOk: ['12', '13_4'], array: { size: 40, limit: 8 }, output: { arrayDir: '/c/logs/arrays/s' } });
    expect(argv).toContain('--dependency=afterok:12:13_4');
    expect(argv).toContain('--array=0-39%8');
    expect(argv).toContain('--output=/c/logs/arrays/s/%a.out');
  });

  it('escapes % in paths so Slurm does not expand it', () => {
    expect(sbatchArgv({ ...base, output: { file: '/c/100%/k.out' } })).toContain('--output=/c/100%%/k.out');
  });

  it('passes hostile values as single argv words', () => {
    const argv = sbatchArgv({ ...base, name: "lw:x:a b'$(id)`id`\n", workDir: "/w d/it's $(x)" });
    expect(argv).toContain("--chdir=/w d/it's $(x)");
    expect(argv[2]).toBe('--job-name=lw:x:a_b___id__id__');
  });
});

describe('job names', () => {
  it('say which study and task, in characters every tool prints as is', () => {
    expect(jobName('critical-periods', 'sweep[type=image_noise,start=5]')).toBe('lw:critical-periods:sweep[type=image_noise,start=5]');
    expect(sanitizeJobName('a|b c\td"e')).toBe('a_b_c_d_e');
    expect(sanitizeJobName('x'.repeat(500))).toHaveLength(200);
  });
});

describe('jobScript', () => {
  const hostile = "/tmp/it's a $(touch pwned) `touch pwned` \"dir\"\nline2";
  // The task command is replaced by printf so the test sees exactly the words the job would run.
  const taskArgv = (key: string) => ['printf', '[%s]', 'task', key, '--cache', hostile];

  function runScript(script: string, env: Record<string, string> = {}): string {
    const dir = mkdtempSync(join(tmpdir(), 'lw-script-'));
    const path = join(dir, 'job.sh');
    writeFileSync(path, script);
    const out = execFileSync('/bin/sh', [path], { cwd: dir, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(execFileSync('ls', ['-A', dir], { encoding: 'utf8' }).trim()).toBe('job.sh');
    return out;
  }

  it('runs the task command of its key with every word intact', () => {
    const out = runScript(jobScript({ name: 'lw:s:t', taskArgv, key: 'k1' }));
    expect(out).toBe(`[task][k1][--cache][${hostile}]`);
  });

  it('picks an array task key from the keys file by SLURM_ARRAY_TASK_ID', () => {
    const dir = mkdtempSync(join(tmpdir(), "lw keys 'q' "));
    const keysFile = join(dir, 'keys.txt');
    writeFileSync(keysFile, 'k0\nk1\nk2\n');
    const script = jobScript({ name: 'lw:s:t', taskArgv, keysFile });
    expect(runScript(script, { SLURM_ARRAY_TASK_ID: '2' })).toBe(`[task][k2][--cache][${hostile}]`);
    expect(runScript(script, { SLURM_ARRAY_TASK_ID: '0' })).toBe(`[task][k0][--cache][${hostile}]`);
  });

  it('fails instead of running without a key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-keys-'));
    writeFileSync(join(dir, 'keys.txt'), 'k0\n');
    const script = jobScript({ name: 'n', taskArgv, keysFile: join(dir, 'keys.txt') });
    expect(() => runScript(script, { SLURM_ARRAY_TASK_ID: '5' })).toThrow();
  });
});
