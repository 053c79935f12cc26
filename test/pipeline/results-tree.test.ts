import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { leftovers, lw, project, startLw, until } from './helpers.js';

/**
 * The results tree shows one run, and only that run (issue 17, part 4): after every `lw run`,
 * failed and interrupted ones included, `.lw/results/<pipeline>/...` holds exactly that run's
 * plan: links to this plan's entries, NOT_RUN markers for tasks without one, nothing else of ours.
 */
const pipeline = (values = '[1, 2, 3]', extra = '') => `name: r
vars: { log: "$DIR/executions.log", tag: a, bad: 0, slow: 0 }
stages:
  work:
    uses: exec
    matrix: { i: ${values} }
    params: { cmd: "if [ \${i} != 1 ]; then sleep \${slow}; fi && test \${i} != \${bad} && echo \${tag}\${i} > out.txt && echo work\${i} >> \${log}", outs: [out.txt] }
  total:
    uses: exec
    inputs: { all: work }
    params: { cmd: "cat $LW_IN_ALL/*/out.txt > total.txt", outs: [total.txt] }
${extra}`;

/** Every link under `dir` -> its target. */
function links(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string) => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) out.set(p, readlinkSync(p));
    else if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(dir);
  return out;
}

function notRun(path: string): string {
  expect(lstatSync(path).isDirectory(), `${path} should be a NOT_RUN marker`).toBe(true);
  expect(readdirSync(path)).toEqual(['NOT_RUN']);
  return readFileSync(join(path, 'NOT_RUN'), 'utf8');
}

describe('the results tree after a run', () => {
  it('after a failed run: links only to this run\'s entries, NOT_RUN markers for the failed and skipped tasks', async () => {
    const p = project(pipeline());
    const tree = join(p.dir, '.lw/results/r');
    expect((await lw(['run', p.file, '--json'], p.dir)).json).toMatchObject({ ran: 4, failed: 0 });
    const earlier = new Set(links(tree).values());
    expect(earlier.size).toBe(4);

    const r = await lw(['run', p.file, '--json', '--set', 'tag=b', '--set', 'bad=2'], p.dir);
    expect(r.code).toBe(1);
    expect(r.json).toEqual({ tasks: 4, ran: 2, cached: 0, failed: 1 });
    const now = links(tree);
    expect([...now.values()].filter((t) => earlier.has(t))).toEqual([]);
    expect([...now.keys()].map((l) => l.slice(tree.length + 1)).sort()).toEqual(['work/i=1', 'work/i=3']);
    expect(readFileSync(join(tree, 'work/i=1/out.txt'), 'utf8')).toBe('b1\n');
    expect(notRun(join(tree, 'work/i=2'))).toMatch(/^work\[i=2\] did not complete in the last run of .*p\.yaml: it failed: .*status 1/);
    expect(notRun(join(tree, 'total'))).toMatch(/^total did not complete .*: it was not run: dependency/);
    const index = JSON.parse(readFileSync(join(tree, 'results.json'), 'utf8'));
    expect(Object.keys(index.work).sort()).toEqual(['work[i=1]', 'work[i=3]']);
    expect(index.total).toEqual({});

    // Back to the first plan: all cached, and the tree is the first run's again.
    expect((await lw(['run', p.file, '--json'], p.dir)).json).toEqual({ tasks: 4, ran: 0, cached: 4, failed: 0 });
    expect(new Set(links(tree).values())).toEqual(earlier);
  });

  it('after Ctrl-C: links only to entries this run completed, NOT_RUN markers for the rest', async () => {
    const p = project(pipeline());
    const tree = join(p.dir, '.lw/results/r');
    const cache = join(p.dir, '.lw/cache');
    await lw(['run', p.file], p.dir);
    const earlier = new Set(links(tree).values());
    expect(earlier.size).toBe(4);

    const { child, done } = startLw(['run', p.file, '--jobs', '2', '--set', 'tag=b', '--set', 'slow=30'], p.dir);
    // work[i=1] (fast) is done and work[i=2], work[i=3] are running.
    await until(() => p.executions().length === 4 && existsSync(join(cache, 'tmp')) && leftovers(cache).length === 2);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    const now = links(tree);
    expect([...now.values()].filter((t) => earlier.has(t))).toEqual([]);
    expect([...now.keys()].map((l) => l.slice(tree.length + 1))).toEqual(['work/i=1']);
    expect(readFileSync(join(tree, 'work/i=1/out.txt'), 'utf8')).toBe('b1\n');
    expect(notRun(join(tree, 'work/i=2'))).toContain('it was cancelled: interrupted');
    expect(notRun(join(tree, 'total'))).toContain('did not complete');
    expect(Object.keys(JSON.parse(readFileSync(join(tree, 'results.json'), 'utf8')).work)).toEqual(['work[i=1]']);
  });

  it('links of conditions and stages removed from the file go; files of the user stay', async () => {
    const p = project(pipeline('[1, 2, 3]', '  extra: { uses: exec, params: { cmd: "echo x > x.txt", outs: [x.txt] } }\n'));
    const tree = join(p.dir, '.lw/results/r');
    await lw(['run', p.file], p.dir);
    expect(existsSync(join(tree, 'work/i=3'))).toBe(true);
    expect(existsSync(join(tree, 'extra/x.txt'))).toBe(true);
    writeFileSync(join(tree, 'notes.md'), 'mine');
    p.write(pipeline('[1, 2]'));
    expect((await lw(['run', p.file, '--json'], p.dir)).json).toEqual({ tasks: 3, ran: 1, cached: 2, failed: 0 });
    expect(readdirSync(join(tree, 'work')).sort()).toEqual(['i=1', 'i=2']);
    expect(readdirSync(tree).sort()).toEqual(['notes.md', 'results.json', 'total', 'work']);
    expect(readFileSync(join(tree, 'total/total.txt'), 'utf8')).toBe('a1\na2\n');
  });

  it('goes to .lw/results of the working directory, not beside the cache; or to --results / LW_RESULTS', async () => {
    const p = project(pipeline('[1]'));
    const cache = join(p.dir, 'caches', 'one');
    mkdirSync(cache, { recursive: true });
    await lw(['run', p.file, '--cache', cache], p.dir);
    expect(existsSync(join(p.dir, '.lw/results/r/work/i=1/out.txt'))).toBe(true);
    expect(existsSync(join(p.dir, 'caches', 'results'))).toBe(false);

    const flag = join(p.dir, 'flag-results');
    expect((await lw(['run', p.file, '--cache', cache, '--results', flag, '--json'], p.dir)).json).toMatchObject({ ran: 0, cached: 2 });
    expect(readFileSync(join(flag, 'r/total/total.txt'), 'utf8')).toBe('a1\n');
    const env = join(p.dir, 'env-results');
    expect((await lw(['run', p.file, '--cache', cache, '--json'], p.dir, { LW_RESULTS: env })).json).toMatchObject({ ran: 0, cached: 2 });
    expect(existsSync(join(env, 'r/total/total.txt'))).toBe(true);
  });

  it('lw status: missing for tasks never run, also when another cache ran them; stale for changed ones', async () => {
    // Two caches in one parent folder (they used to share one results tree beside them).
    const p = project(pipeline('[1, 2]'));
    const [one, two] = [join(p.dir, 'caches', 'one'), join(p.dir, 'caches', 'two')];
    expect((await lw(['status', p.file, '--json', '--cache', one], p.dir)).json).toMatchObject({ tasks: 3, cached: 0, stale: 0, missing: 3 });
    await lw(['run', p.file, '--cache', one], p.dir);
    expect((await lw(['status', p.file, '--json', '--cache', two], p.dir)).json).toMatchObject({ tasks: 3, cached: 0, stale: 0, missing: 3 });
    expect((await lw(['status', p.file, '--json', '--cache', one, '--set', 'tag=b'], p.dir)).json).toMatchObject({ tasks: 3, cached: 0, stale: 3, missing: 0 });
  });
});
