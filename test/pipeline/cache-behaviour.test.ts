import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { leftovers, lw, overwrite, project } from './helpers.js';

/**
 * The cache's promises, checked through the real CLI on `exec` pipelines: each task's command
 * appends its name to executions.log when it finishes, so we count what really ran.
 */
const pipeline = (values: string, midCmd = 'cat $LW_IN_SRC/v.txt > w.txt') => `name: t
vars: { log: "$DIR/executions.log" }
stages:
  gen:
    uses: exec
    matrix: { i: ${values} }
    params: { cmd: "echo \${i} > v.txt && echo gen\${i} >> \${log}", outs: [v.txt] }
  mid:
    uses: exec
    matrix: { i: ${values} }
    inputs: { src: gen }
    params: { cmd: "${midCmd} && echo mid\${i} >> \${log}", outs: [w.txt] }
  other:
    uses: exec
    params: { cmd: "echo other >> \${log}" }
  sum:
    uses: exec
    inputs: { parts: [mid] }
    params: { cmd: "cat $LW_IN_PARTS/*/w.txt > all.txt && echo sum >> \${log}", outs: [all.txt] }
`;

describe('cache behaviour through lw run', () => {
  it('reruns nothing, then exactly what a matrix value or a param change touches', async () => {
    const p = project(pipeline('[1, 2, 3]'));
    const first = await lw(['run', p.file, '--json'], p.dir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json).toEqual({ tasks: 8, ran: 8, cached: 0, failed: 0 });
    expect(readFileSync(join(p.dir, '.lw/results/t/sum/all.txt'), 'utf8')).toBe('1\n2\n3\n');

    const again = await lw(['run', p.file, '--json'], p.dir);
    expect(again.json).toEqual({ tasks: 8, ran: 0, cached: 8, failed: 0 });
    expect(p.executions()).toHaveLength(8);

    p.write(pipeline('[1, 2, 4]'));
    const dry = await lw(['run', p.file, '--dry-run', '--json'], p.dir);
    expect(dry.json).toEqual({ tasks: 8, toRun: 3, cached: 5 });
    const explained = await lw(['explain', p.file, 'sum', '--json'], p.dir);
    expect(JSON.stringify(explained.json)).toContain('inputs.parts');
    const changed = await lw(['run', p.file, '--json'], p.dir);
    expect(changed.json).toEqual({ tasks: 8, ran: 3, cached: 5, failed: 0 });
    expect(p.executions().slice(8).sort()).toEqual(['gen4', 'mid4', 'sum']);

    p.write(pipeline('[1, 2, 4]', 'sed s/^/x/ $LW_IN_SRC/v.txt > w.txt'));
    const param = await lw(['run', p.file, '--json'], p.dir);
    expect(param.json).toEqual({ tasks: 8, ran: 4, cached: 4, failed: 0 });
    expect(p.executions().slice(11).sort()).toEqual(['mid1', 'mid2', 'mid4', 'sum']);
    expect(readFileSync(join(p.dir, '.lw/results/t/sum/all.txt'), 'utf8')).toBe('x1\nx2\nx4\n');

    const status = await lw(['status', p.file, '--json'], p.dir);
    expect(status.json).toMatchObject({ tasks: 8, cached: 8, stale: 0, missing: 0 });
  });

  it('a corrupted entry is found by lw verify and recomputed by the next run', async () => {
    const p = project(pipeline('[1, 2]'));
    expect((await lw(['run', p.file, '--json'], p.dir)).json).toMatchObject({ ran: 6 });
    const entry = readdirSync(join(p.dir, '.lw/results/t/gen')).sort()[0];
    const target = join(p.dir, '.lw/results/t/gen', entry, 'v.txt');
    overwrite(target, '9\n');
    const verify = await lw(['verify', '--json'], p.dir);
    expect(verify.code).toBe(1);
    // The corrupted gen entry, and mid and sum computed from it (cache-integrity.test.ts).
    expect(verify.json).toMatchObject({ entries: 6, ok: 3 });
    expect((verify.json.corrupt as { files: string[] }[])[0].files).toEqual(['v.txt']);
    const rerun = await lw(['run', p.file, '--json'], p.dir);
    expect(rerun.json).toEqual({ tasks: 6, ran: 3, cached: 3, failed: 0 });
    expect((await lw(['verify', '--json'], p.dir)).json).toMatchObject({ entries: 6, ok: 6 });
  });

  it('a failing task fails itself and its dependents; independent tasks finish; no temp dirs remain', async () => {
    const p = project(pipeline('[1, 2]', 'test ${i} != 2 && cat $LW_IN_SRC/v.txt > w.txt'));
    const r = await lw(['run', p.file, '--json'], p.dir);
    expect(r.code).toBe(1);
    expect(r.json).toEqual({ tasks: 6, ran: 4, cached: 0, failed: 1 });
    expect(r.stderr).toMatch(/failed: mid\[i=2\]: .*status 1.*\(log: .*\.log\)/);
    expect(p.executions().sort()).toEqual(['gen1', 'gen2', 'mid1', 'other']);
    expect(leftovers(join(p.dir, '.lw/cache'))).toEqual([]);
  });

  it('gc keeps what a pipeline file needs and drops the rest', async () => {
    const p = project(pipeline('[1, 2]'));
    await lw(['run', p.file], p.dir);
    p.write(pipeline('[1, 3]'));
    await lw(['run', p.file], p.dir);
    const gc = await lw(['gc', '--keep', p.file, '--json'], p.dir);
    expect(gc.json).toMatchObject({ removed: 3 });
    expect((await lw(['run', p.file, '--json'], p.dir)).json).toMatchObject({ ran: 0, cached: 6 });
  });
});
