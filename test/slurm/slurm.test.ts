import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cancelRun, readRunState, runStatePath, slurmExecutorFactory, slurmTaskStatus } from '@lw/pipeline';
import { needs } from '@lw/core/testing/system-parts';
import { EXECUTOR, keyOf, runOnSlurm, slurm, study, whenRunning } from './helpers.js';

// Without a reachable Slurm these tests skip, saying so; in CI (LW_REQUIRE_SLURM=1) that is a failure.
const slurmAvailable = needs(slurm);

const squares = `name: squares
${EXECUTOR}
stages:
  prep:
    uses: exec
    params: { cmd: "echo prep > out.txt", outs: [out.txt] }
  sq:
    uses: exec
    matrix: { n: [1, 2, 3] }
    inputs: { prep: prep }
    params: { cmd: "echo $(( \${n} * \${n} )) > sq.txt", outs: [sq.txt] }
  total:
    uses: exec
    inputs: { sq: sq }
    params: { cmd: "cat \\"$LW_IN_SQ\\"/*/sq.txt | awk '{ s += $1 } END { print s }' > total.txt", outs: [total.txt] }
`;

function squeueState(jobId: string): string {
  return execFileSync('squeue', ['--states=all', '-h', '-o', '%i|%T', '-j', jobId], { encoding: 'utf8' });
}

describe.skipIf(!slurmAvailable)('lw run --executor slurm on a real Slurm', () => {
  it('runs a matrix stage as a job array and its dependent after it; a rerun submits nothing', async () => {
    const s = study(squares);
    const first = await runOnSlurm(s);
    expect(first.summary).toMatchObject({ tasks: 5, ran: 5, cached: 0, failed: 0, skipped: 0 });
    const total = keyOf(first, 'total');
    expect(readFileSync(join(s.cache.entryDir(total), 'total.txt'), 'utf8').trim()).toBe('14');
    for (const t of first.summary.plan.tasks) {
      expect(s.cache.has(t.key)).toBe(true);
      expect(readFileSync(join(s.cache.dir, 'logs', `${t.key}.out`), 'utf8')).toContain(`lw: task ${t.key}`);
    }
    // prep, the sq array (3 tasks, one job), total: three sbatch calls.
    const state = readRunState(runStatePath(s.cache.dir, s.file), s.file);
    expect(state.jobs.map((j) => j.keys.length)).toEqual([1, 3, 1]);
    expect(squeueState(state.jobs[1].id).trim().split('\n').sort()).toEqual(
      ['_0', '_1', '_2'].map((i) => `${state.jobs[1].id}${i}|COMPLETED`),
    );

    const again = await runOnSlurm(s);
    expect(again.summary).toMatchObject({ tasks: 5, ran: 0, cached: 5, failed: 0 });
    expect(again.executors).toBe(0);
    expect(readRunState(runStatePath(s.cache.dir, s.file), s.file).jobs).toEqual(state.jobs);
  });

  it('reports a failed task with its log, cancels its dependents, finishes the rest; a rerun submits only those', async () => {
    const s = study(`name: partial
${EXECUTOR}
stages:
  prep:
    uses: exec
    params: { cmd: "echo prep > out.txt", outs: [out.txt] }
  sq:
    uses: exec
    matrix: { n: [1, 2, 3] }
    inputs: { prep: prep }
    params: { cmd: "test ! -e \\"$LW_PIPELINE_DIR/fail-\${n}\\" && echo \${n} > sq.txt", outs: [sq.txt] }
  per:
    uses: exec
    matrix: { n: [1, 2, 3] }
    inputs: { sq: sq }
    params: { cmd: "cp \\"$LW_IN_SQ/sq.txt\\" per.txt", outs: [per.txt] }
  total:
    uses: exec
    inputs: { sq: sq }
    params: { cmd: "cat \\"$LW_IN_SQ\\"/*/sq.txt > all.txt", outs: [all.txt] }
  other:
    uses: exec
    inputs: { prep: prep }
    params: { cmd: "sleep 2 && echo other > other.txt", outs: [other.txt] }
`);
    writeFileSync(join(s.dir, 'fail-2'), '');
    const first = await runOnSlurm(s);
    expect(first.summary).toMatchObject({ tasks: 9, ran: 6, failed: 1, skipped: 2 });
    const [failure] = first.summary.failures;
    expect(failure.name).toBe('sq[n=2]');
    expect(failure.reason).toMatch(/^Slurm job failed \(exit code 1\) \(slurm job \d+_1\)$/);
    expect(failure.logPath).toBe(join(s.cache.dir, 'logs', `${keyOf(first, 'sq[n=2]')}.out`));
    expect(readFileSync(failure.logPath!, 'utf8')).toMatch(/command exited with status 1/);
    for (const name of ['per[n=2]', 'total']) expect(s.cache.has(keyOf(first, name))).toBe(false);
    for (const name of ['prep', 'sq[n=1]', 'sq[n=3]', 'per[n=1]', 'per[n=3]', 'other']) expect(s.cache.has(keyOf(first, name))).toBe(true);
    // What `lw status` shows for the tasks of the last Slurm run.
    const status = await slurmTaskStatus({ cacheDir: s.cache.dir, pipelineFile: s.file });
    expect(status.get(keyOf(first, 'sq[n=2]'))).toMatchObject({ state: 'failed', reason: 'Slurm job failed (exit code 1)', logPath: failure.logPath });
    expect(status.get(keyOf(first, 'sq[n=1]'))).toMatchObject({ state: 'succeeded', jobId: expect.stringMatching(/^\d+_0$/) });
    expect(status.get(keyOf(first, 'total'))).toMatchObject({ state: 'failed', reason: 'a job it depends on failed' });
    const lwStatus = spawnSync(process.execPath, [join(process.cwd(), 'packages/pipeline/bin/lw.js'), 'status', s.file, '--cache', s.cache.dir], { encoding: 'utf8' });
    expect(lwStatus.stdout).toContain(`slurm failed    sq[n=2] (job ${failure.reason!.match(/job (\d+_1)/)![1]}: Slurm job failed (exit code 1)) log: ${failure.logPath}`);

    rmSync(join(s.dir, 'fail-2'));
    const second = await runOnSlurm(s);
    expect(second.summary).toMatchObject({ tasks: 9, ran: 3, cached: 6, failed: 0, skipped: 0 });
    const submitted = readRunState(runStatePath(s.cache.dir, s.file), s.file).jobs.flatMap((j) => j.keys);
    expect(submitted.sort()).toEqual(['sq[n=2]', 'per[n=2]', 'total'].map((n) => keyOf(second, n)).sort());
  });

  it('cancels its jobs on Ctrl-C, leaves no entry, and a rerun resumes from the scratch checkpoint', async () => {
    // The task counts to 8 in half-second steps, keeping its count in $LW_SCRATCH as a checkpoint
    // (written whole, then renamed, as a training checkpoint is).
    const s = study(`name: slow
${EXECUTOR}
stages:
  count:
    uses: exec
    params:
      cmd: >-
        n=$(cat "$LW_SCRATCH/n" 2>/dev/null || echo 0); echo "from $n" > from.txt;
        while [ "$n" -lt 8 ]; do sleep 0.5 || exit 1; n=$((n + 1)); echo "$n" > "$LW_SCRATCH/n.tmp"; mv "$LW_SCRATCH/n.tmp" "$LW_SCRATCH/n"; done
      outs: [from.txt]
  after:
    uses: exec
    inputs: { count: count }
    params: { cmd: "cp \\"$LW_IN_COUNT/from.txt\\" .", outs: [from.txt] }
`);
    const controller = new AbortController();
    const scratchCount = () => {
      const dir = join(s.cache.dir, 'scratch');
      const keys = existsSync(dir) ? readdirSync(dir) : [];
      return keys.length && existsSync(join(dir, keys[0], 'n')) ? Number(readFileSync(join(dir, keys[0], 'n'), 'utf8')) : 0;
    };
    const started = Date.now();
    const timer = setInterval(() => {
      if (scratchCount() >= 2) controller.abort();
    }, 100);
    const first = await runOnSlurm(s, { signal: controller.signal }).finally(() => clearInterval(timer));
    expect(first.summary.cancelled).toBe(true);
    expect(first.summary.ran).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    for (const t of first.summary.plan.tasks) expect(s.cache.has(t.key)).toBe(false);
    const state = readRunState(runStatePath(s.cache.dir, s.file), s.file);
    for (const job of state.jobs) expect(squeueState(job.id)).toMatch(/CANCELLED/);
    expect(readdirSync(join(s.cache.dir, 'tmp'))).toEqual([]);

    const second = await runOnSlurm(s);
    expect(second.summary).toMatchObject({ ran: 2, failed: 0 });
    const from = Number(readFileSync(join(s.cache.entryDir(keyOf(second, 'after')), 'from.txt'), 'utf8').replace('from ', ''));
    expect(from).toBeGreaterThanOrEqual(2);
  });

  it('a cancel while jobs are still being submitted stops submitting and takes back what went out', async () => {
    const s = study(`name: many
executor: { type: slurm, arrays: false, poll: { minSeconds: 0.3, maxSeconds: 1 } }
stages:
  w:
    uses: exec
    matrix: { i: "1..40" }
    params: { cmd: "sleep 30 && echo \${i} > i.txt", outs: [i.txt] }
`);
    const controller = new AbortController();
    const statePath = runStatePath(s.cache.dir, s.file);
    const timer = setInterval(() => {
      if (existsSync(statePath)) controller.abort();
    }, 5);
    const run = await runOnSlurm(s, { signal: controller.signal }).finally(() => clearInterval(timer));
    expect(run.summary).toMatchObject({ cancelled: true, ran: 0, failed: 0, skipped: 40 });
    const jobs = readRunState(statePath, s.file).jobs;
    expect(jobs.length).toBeLessThan(40);
    const states = execFileSync('squeue', ['--states=all', '-h', '-o', '%T', '-j', jobs.map((j) => j.id).join(',')], { encoding: 'utf8' });
    expect(new Set(states.trim().split('\n'))).toEqual(new Set(['CANCELLED']));
  });

  it('lw cancel FILE stops a run polling elsewhere', async () => {
    const s = study(`name: cancelled
${EXECUTOR}
stages:
  wait:
    uses: exec
    matrix: { i: [1, 2] }
    params: { cmd: "sleep 60 && echo \${i} > done", outs: [done] }
`);
    let cancelled: Promise<{ jobs: string[] }> | undefined;
    const stop = whenRunning('lw:cancelled:wait[2_tasks]', () => {
      cancelled = cancelRun({ cacheDir: s.cache.dir, pipelineFile: s.file });
    });
    const run = await runOnSlurm(s).finally(() => stop());
    expect(cancelled).toBeDefined();
    expect((await cancelled!).jobs).toHaveLength(1);
    expect(run.summary).toMatchObject({ ran: 0, failed: 0, skipped: 2 });
  });

  it('passes hostile values and paths through without a shell ever reading them', async () => {
    const hostile = `it's "q" $(touch PWNED1) \`touch PWNED2\` ; touch PWNED3 %j`;
    const s = study(
      `name: hostile
${EXECUTOR.replace('type: slurm,', `type: slurm, resources: { extra: ["--comment=$(touch PWNED4) it's"] },`)}
stages:
  echo:
    uses: exec
    matrix: { v: [${JSON.stringify(hostile)}], k: [1, 2] }
    params: { cmd: "printf '%s' \\"$LW_TASK_NAME\\" > name.txt; echo \${k} > k.txt", outs: [name.txt] }
  one:
    uses: exec
    matrix: { v: [${JSON.stringify(hostile)}] }
    params: { cmd: "printf '%s' \\"$LW_TASK_NAME\\" > name.txt", outs: [name.txt] }
`,
      { dirName: `study dir 'x' $(touch PWNED5)`, cacheName: `cache "c" $(touch PWNED6) 100%` },
    );
    const run = await runOnSlurm(s);
    expect(run.summary).toMatchObject({ ran: 3, failed: 0 });
    const name = `echo[v=${hostile},k=1]`;
    expect(readFileSync(join(s.cache.entryDir(keyOf(run, name)), 'name.txt'), 'utf8')).toBe(name);
    const root = join(s.cache.dir, '..');
    const found = execFileSync('find', [root, process.cwd(), '/tmp', '-maxdepth', '3', '-name', 'PWNED*'], { encoding: 'utf8' });
    expect(found).toBe('');
    // Job names as Slurm stored them: the hostile value reduced to characters every tool prints as is.
    const jobs = readRunState(runStatePath(s.cache.dir, s.file), s.file).jobs;
    const names = jobs.map((j) => execFileSync('squeue', ['--states=all', '-h', '-o', '%j', '-j', j.id], { encoding: 'utf8' }).trim().split('\n')[0]);
    expect(names).toEqual(['lw:hostile:echo[2_tasks]', 'lw:hostile:one[v=it_s__q____touch_PWNED1___touch_PWNED2____touch_PWNED3__j]']);
    expect(readFileSync(join(s.cache.entryDir(keyOf(run, `one[v=${hostile}]`)), 'name.txt'), 'utf8')).toBe(`one[v=${hostile}]`);
    const log = readFileSync(join(s.cache.dir, 'logs', `${keyOf(run, name)}.out`), 'utf8');
    expect(log).toContain('lw: task');
  });

  it('reports a job sbatch refuses, with sbatch\'s reason, and never submits its dependents', async () => {
    const s = study(`name: refused
${EXECUTOR}
stages:
  bad:
    uses: exec
    resources: { partition: no-such-partition }
    params: { cmd: "touch x", outs: [x] }
  after:
    uses: exec
    inputs: { bad: bad }
    params: { cmd: "touch y", outs: [y] }
  fine:
    uses: exec
    params: { cmd: "touch z", outs: [z] }
`);
    const run = await runOnSlurm(s);
    expect(run.summary).toMatchObject({ ran: 1, failed: 1, skipped: 1 });
    expect(run.summary.failures[0]).toMatchObject({ name: 'bad', reason: expect.stringMatching(/sbatch refused the job: .*invalid partition/i) });
    const submitted = readRunState(runStatePath(s.cache.dir, s.file), s.file).jobs.flatMap((j) => j.keys);
    expect(submitted).toEqual([keyOf(run, 'fine')]);
  });

  it('--dry-run prints the sbatch commands and submits nothing', async () => {
    const s = study(squares.replace('inputs: { prep: prep }', 'inputs: { prep: prep }\n    resources: { arrayLimit: 2, time: "0:10:00" }'));
    const { loadPlan, execTasks, selectTasks } = await import('@lw/pipeline');
    const { plan } = await loadPlan(s.file, [], s.cache);
    const cached = new Set(plan.tasks.filter((t) => s.cache.has(t.key)).map((t) => t.key));
    const lines = slurmExecutorFactory(plan, { cache: s.cache }).dryRun(execTasks(selectTasks(plan, [])), cached);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^JOB1=\$\('sbatch' '--parsable' '--job-name=lw:squares:prep'/);
    expect(lines[1]).toContain(`'--array=0-2%2' '--dependency=afterok:'"$JOB1"`);
    expect(lines[1]).toContain(`'--time=0:10:00'`);
    expect(lines[2]).toContain(`'--dependency=afterok:'"$JOB2"`);
    // As a shell script (sbatch replaced by a function that prints its --dependency and answers
    // with the job name as id), each job waits on the ids the earlier lines captured.
    const fakeSbatch = `sbatch() { for a; do case $a in --dependency=*) echo "$a" >&2;; --job-name=*) echo "\${a#--job-name=}";; esac; done; }`;
    const deps = spawnSync('/bin/sh', ['-c', `${fakeSbatch}\n${lines.join('\n')}`], { encoding: 'utf8' }).stderr;
    expect(deps.trim().split('\n')).toEqual(['--dependency=afterok:lw:squares:prep', '--dependency=afterok:lw:squares:sq[3_tasks]']);
    expect(existsSync(runStatePath(s.cache.dir, s.file))).toBe(false);
    expect(existsSync(join(s.cache.dir, 'slurm'))).toBe(false);
  });
});
