import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { leftovers, lw, project, startLw } from './helpers.js';

/** Six independent slow tasks and one that reads them all. */
const slow = (seconds: number) => `name: slow
vars: { log: "$DIR/executions.log" }
stages:
  work:
    uses: exec
    matrix: { i: "1..6" }
    params: { cmd: "sleep ${seconds} && echo \${i} > out.txt && echo work\${i} >> \${log}", outs: [out.txt] }
  total:
    uses: exec
    inputs: { all: work }
    params: { cmd: "cat $LW_IN_ALL/*/out.txt > total.txt && echo total >> \${log}", outs: [total.txt] }
`;

async function until(what: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(50);
  }
}

/** Task-runner processes still alive for this cache (their argv names the cache dir). */
function taskRunners(cacheDir: string): number {
  const r = spawnSync('pgrep', ['-f', `task-main.js [0-9a-f]{64} ${cacheDir}`], { encoding: 'utf8' });
  return r.stdout.trim().split('\n').filter(Boolean).length;
}

function entries(cacheDir: string): number {
  return readdirSync(cacheDir).filter((d) => /^[0-9a-f]{2}$/.test(d)).flatMap((d) => readdirSync(join(cacheDir, d))).length;
}

describe('crashes, interrupts and concurrent runs', () => {
  it('after kill -9 of lw run, a rerun finishes only the unfinished tasks and no entry is half-written', async () => {
    const p = project(slow(0.6));
    const cache = join(p.dir, '.lw/cache');
    const { child, done } = startLw(['run', p.file, '--jobs', '2'], p.dir);
    await until(() => p.executions().length >= 2);
    child.kill('SIGKILL');
    await done;
    // Orphaned task runners notice their parent is gone, stop their command and clean up.
    await until(() => taskRunners(cache) === 0, 20_000);
    expect(leftovers(cache)).toEqual([]);
    expect(readdirSync(join(cache, 'locks'))).toEqual([]);
    const finished = entries(cache);
    expect(finished).toBeGreaterThanOrEqual(2);
    expect(finished).toBeLessThan(7);
    const verify = await lw(['verify', '--json'], p.dir);
    expect(verify.json).toMatchObject({ entries: finished, ok: finished });
    const rerun = await lw(['run', p.file, '--json', '--jobs', '2'], p.dir);
    expect(rerun.json).toEqual({ tasks: 7, ran: 7 - finished, cached: finished, failed: 0 });
    expect(leftovers(cache)).toEqual([]);
  });

  it('Ctrl-C cancels running tasks cleanly: exit 130, no entries or temp dirs for them', async () => {
    const p = project(slow(30));
    const cache = join(p.dir, '.lw/cache');
    const { child, done } = startLw(['run', p.file, '--jobs', '2'], p.dir);
    await until(() => existsSync(join(cache, 'tmp')) && leftovers(cache).length === 2);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('interrupted');
    expect(entries(cache)).toBe(0);
    expect(leftovers(cache)).toEqual([]);
    expect(readdirSync(join(cache, 'locks'))).toEqual([]);
  });

  it('two lw run processes on one cache compute each task once and both succeed', async () => {
    const p = project(slow(0.3));
    const [a, b] = await Promise.all([lw(['run', p.file, '--json'], p.dir), lw(['run', p.file, '--json'], p.dir)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(p.executions().sort()).toEqual(['total', 'work1', 'work2', 'work3', 'work4', 'work5', 'work6']);
    expect((a.json.ran as number) + (b.json.ran as number)).toBe(7);
    expect((a.json.ran as number) + (a.json.cached as number)).toBe(7);
    expect((b.json.ran as number) + (b.json.cached as number)).toBe(7);
  });
});
