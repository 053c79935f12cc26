import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeTree } from '@lw/pipeline';
import { lw, project } from './helpers.js';

describe('lw task, scratch dirs and --fail-fast', () => {
  it('a crashed task resumes from its scratch dir on the next run, which is then removed', async () => {
    // First attempt leaves a "checkpoint" in $LW_SCRATCH and fails; the rerun finds it.
    const p = project(`name: resume
stages:
  train:
    uses: exec
    params: { cmd: "if [ -f $LW_SCRATCH/epoch1 ]; then echo resumed > out.txt; else touch $LW_SCRATCH/epoch1; exit 3; fi", outs: [out.txt] }
`);
    const first = await lw(['run', p.file, '--json'], p.dir);
    expect(first.json).toEqual({ tasks: 1, ran: 0, cached: 0, failed: 1 });
    const scratch = join(p.dir, '.lw/cache/scratch');
    expect(readdirSync(scratch)).toHaveLength(1);
    const second = await lw(['run', p.file, '--json'], p.dir);
    expect(second.json).toEqual({ tasks: 1, ran: 1, cached: 0, failed: 0 });
    expect(existsSync(join(p.dir, '.lw/results/resume/train/out.txt'))).toBe(true);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('lw task KEY runs one task from the spec the planner wrote, and reports a cached one', async () => {
    const p = project(`name: one
stages:
  a: { uses: exec, params: { cmd: "echo a > a.txt", outs: [a.txt] } }
`);
    await lw(['run', p.file], p.dir);
    const key = readdirSync(join(p.dir, '.lw/cache/specs'))[0].replace('.json', '');
    expect((await lw(['task', key, '--json'], p.dir)).json).toEqual({ key, outcome: 'cached' });
    removeTree(join(p.dir, '.lw/cache', key.slice(0, 2), key)); // read-only: rmSync alone fails unless root
    expect((await lw(['task', key, '--json', '--cache', join(p.dir, '.lw/cache')], '/')).json).toEqual({ key, outcome: 'ran' });
    const missing = await lw(['task', 'f'.repeat(64)], p.dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: no task spec for key f{64}/);
    expect(missing.stderr).not.toContain('    at ');
  });

  it('--fail-fast cancels the rest at the first failure', async () => {
    const p = project(`name: ff
stages:
  bad: { uses: exec, params: { cmd: "exit 1" } }
  slow:
    uses: exec
    matrix: { i: "1..4" }
    params: { cmd: "sleep 2" }
`);
    const r = await lw(['run', p.file, '--json', '--jobs', '1', '--fail-fast'], p.dir);
    expect(r.code).toBe(1);
    expect(r.json).toEqual({ tasks: 5, ran: 0, cached: 0, failed: 1 });
    expect(r.stderr).toContain('--fail-fast');
  });

  it('usage errors exit with 2, bad pipeline files with 1 and one paragraph', async () => {
    const p = project('name: x\nstages:\n  a: { uses: exec, params: { cmd: ls, oops: 1 } }\n');
    const usage = await lw(['run'], p.dir);
    expect(usage.code).toBe(2);
    const bad = await lw(['run', p.file], p.dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(`error: ${p.file}:3:39: stage "a": unknown param "oops"\n  hint: params of this stage: cmd, env, deps, outs\n`);
  });
});

describe('exec deps', () => {
  it('a changed dependency file reruns its task, also after a no-op rerun took the fast path', async () => {
    const p = project(`name: deps
vars: { log: "$DIR/executions.log" }
stages:
  use:
    uses: exec
    params: { cmd: "cat $LW_PIPELINE_DIR/input.txt > copy.txt && echo use >> \${log}", deps: [input.txt], outs: [copy.txt] }
`);
    writeFileSync(join(p.dir, 'input.txt'), 'one\n');
    expect((await lw(['run', p.file, '--json'], p.dir)).json).toMatchObject({ ran: 1 });
    expect((await lw(['run', p.file, '--json'], p.dir)).json).toMatchObject({ ran: 0, cached: 1 });
    expect((await lw(['run', p.file, '--json'], p.dir)).json).toMatchObject({ ran: 0, cached: 1 });
    writeFileSync(join(p.dir, 'input.txt'), 'two\n');
    expect((await lw(['run', p.file, '--json'], p.dir)).json).toMatchObject({ ran: 1, cached: 0 });
    expect(readFileSync(join(p.dir, '.lw/results/deps/use/copy.txt'), 'utf8')).toBe('two\n');
    expect(p.executions()).toEqual(['use', 'use']);
    const missing = await lw(['run', p.file, '--set', 'stages.use.params.deps=[nope.txt]'], p.dir);
    expect(missing.stderr).toMatch(/p\.yaml:\d+:\d+: stage "use": file "nope.txt" named in the params does not exist/);
  });
});
