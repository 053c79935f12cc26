import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { leftovers, lw, overwrite, project, writable } from './helpers.js';

/**
 * The cache never serves corrupted data (issue 17, part 2), through the real CLI on `exec`
 * pipelines: entries are read-only; a task's input entries are checked against their
 * checksums.json before it runs, and cached entries before `lw run` serves them; `lw verify`
 * removes the entries computed from a corrupted one too.
 */

/** A "training" task writing a checkpoint and a "fine-tuning" task that resumes from it. */
const resume = (tag: string) => `name: ckpt
vars: { log: "$DIR/executions.log", tag: "${tag}" }
stages:
  train:
    uses: exec
    params: { cmd: "mkdir -p checkpoints && printf good-weights > checkpoints/epoch1.bin && echo train >> \${log}", outs: [checkpoints/epoch1.bin] }
  tune:
    uses: exec
    inputs: { resume: train }
    params: { cmd: "cat $LW_IN_RESUME/checkpoints/epoch1.bin > seen.txt && echo \${tag} >> seen.txt && echo tune >> \${log}", outs: [seen.txt] }
`;

describe('the cache never serves corrupted data', () => {
  it.each([
    ['the same size', 'evil-weights'],
    ['another size', 'evil'],
  ])('a checkpoint changed in a published entry (%s) is recomputed before a downstream task reads it', async (_, bytes) => {
    const p = project(resume('a'));
    expect((await lw(['run', p.file, '--json'], p.dir)).json).toEqual({ tasks: 2, ran: 2, cached: 0, failed: 0 });
    overwrite(join(p.dir, '.lw/results/ckpt/train/checkpoints/epoch1.bin'), bytes);
    p.write(resume('b')); // tune must run again; train's key is unchanged
    const r = await lw(['run', p.file, '--json'], p.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(p.dir, '.lw/results/ckpt/tune/seen.txt'), 'utf8')).toBe('good-weightsb\n');
    expect(r.stderr).toMatch(/corrupted cache entry of train \(.*\): files not matching its checksums.json: checkpoints\/epoch1\.bin; removed/);
    expect(r.json).toEqual({ tasks: 2, ran: 2, cached: 0, failed: 0 });
    expect(p.executions()).toEqual(['train', 'tune', 'train', 'tune']);
  });

  it('a corrupted output of a cached task is not served as cached, also on the no-op fast path', async () => {
    const p = project(resume('a'));
    await lw(['run', p.file], p.dir);
    expect((await lw(['run', p.file, '--json'], p.dir)).json).toEqual({ tasks: 2, ran: 0, cached: 2, failed: 0 });
    const seen = join(p.dir, '.lw/results/ckpt/tune/seen.txt');
    overwrite(seen, 'bad-weightsa\n');
    const r = await lw(['run', p.file, '--json'], p.dir);
    expect(r.json).toEqual({ tasks: 2, ran: 1, cached: 1, failed: 0 });
    expect(r.stderr).toContain('corrupted cache entry of tune');
    expect(readFileSync(seen, 'utf8')).toBe('good-weightsa\n');
    expect((await lw(['run', p.file, '--json'], p.dir)).json).toEqual({ tasks: 2, ran: 0, cached: 2, failed: 0 });
  });

  it('an input changed after the run checked it fails the task that would read it, naming the entry and file', async () => {
    // `vandal` edits its input entry while the run goes on; `use` runs after it and must not read it.
    const p = project(`name: vandal
vars: { log: "$DIR/executions.log" }
stages:
  gen: { uses: exec, params: { cmd: "echo good > v.txt && echo gen >> \${log}", outs: [v.txt] } }
  vandal: { uses: exec, inputs: { src: gen }, params: { cmd: "chmod u+w $LW_IN_SRC $LW_IN_SRC/v.txt && echo evil > $LW_IN_SRC/v.txt && touch done", outs: [done] } }
  use: { uses: exec, inputs: { src: gen, after: vandal }, params: { cmd: "cat $LW_IN_SRC/v.txt > copy.txt && echo use >> \${log}", outs: [copy.txt] } }
`);
    const r = await lw(['run', p.file, '--json'], p.dir);
    expect(r.code).toBe(1);
    expect(r.json).toEqual({ tasks: 3, ran: 2, cached: 0, failed: 1 });
    expect(r.stderr).toMatch(/failed: use: task use: input src \(gen\) is corrupted: files of .*\.lw\/cache\/[0-9a-f]{2}\/[0-9a-f]{64} not matching its checksums.json: v\.txt/);
    expect(p.executions()).toEqual(['gen']);
    // The corrupted entry was dropped: the next run recomputes it, and `use` reads the real bytes.
    const again = await lw(['run', p.file, '--json'], p.dir);
    expect(again.json).toEqual({ tasks: 3, ran: 2, cached: 1, failed: 0 });
    expect(readFileSync(join(p.dir, '.lw/results/vandal/use/copy.txt'), 'utf8')).toBe('good\n');
  });

  it('published entries are read-only, files and directories, and gc still removes them', async () => {
    const p = project(resume('a'));
    await lw(['run', p.file], p.dir);
    const cache = join(p.dir, '.lw/cache');
    const entries = readdirSync(cache).filter((d) => /^[0-9a-f]{2}$/.test(d)).flatMap((d) => readdirSync(join(cache, d)).map((k) => join(cache, d, k)));
    expect(entries).toHaveLength(2);
    for (const e of entries) {
      expect(existsSync(join(e, 'checksums.json'))).toBe(true);
      expect(writable(e)).toEqual([]);
    }
    expect(existsSync(join(entries.find((e) => existsSync(join(e, 'checkpoints')))!, 'checkpoints/epoch1.bin'))).toBe(true);
    const gc = await lw(['gc', '--max-size', '0', '--json'], p.dir);
    expect(gc.json).toMatchObject({ removed: 2 });
    expect(entries.filter((e) => existsSync(e))).toEqual([]);
    expect(leftovers(cache)).toEqual([]);
  });

  it('lw verify removes a corrupted entry and the entries computed from it, and says so', async () => {
    const p = project(`name: v
vars: { log: "$DIR/executions.log" }
stages:
  gen: { uses: exec, matrix: { i: [1, 2] }, params: { cmd: "echo \${i} > v.txt && echo gen\${i} >> \${log}", outs: [v.txt] } }
  mid: { uses: exec, matrix: { i: [1, 2] }, inputs: { src: gen }, params: { cmd: "cat $LW_IN_SRC/v.txt > w.txt && echo mid\${i} >> \${log}", outs: [w.txt] } }
  sum: { uses: exec, inputs: { parts: [mid] }, params: { cmd: "cat $LW_IN_PARTS/*/w.txt > all.txt && echo sum >> \${log}", outs: [all.txt] } }
  other: { uses: exec, params: { cmd: "echo other >> \${log}" } }
`);
    await lw(['run', p.file], p.dir);
    const keyOf = (path: string) => basename(readlinkSync(join(p.dir, '.lw/results/v', path)));
    overwrite(join(p.dir, '.lw/results/v/gen/i=1/v.txt'), '7\n');
    const dry = await lw(['verify', '--dry-run'], p.dir);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toContain(`corrupt ${keyOf('gen/i=1')} gen[i=1]: v.txt\n`);
    expect(dry.stdout).toContain(`computed from a corrupt entry: ${keyOf('mid/i=1')} mid[i=1] (from ${keyOf('gen/i=1').slice(0, 12)})\n`);
    expect(dry.stdout).toContain(`computed from a corrupt entry: ${keyOf('sum')} sum (from ${keyOf('mid/i=1').slice(0, 12)})\n`);
    expect(dry.stdout).toContain('6 entries: 3 ok, 1 corrupt, 2 computed from corrupt entries\n');

    const verify = await lw(['verify', '--json'], p.dir);
    expect(verify.code).toBe(1);
    expect(verify.json).toMatchObject({ entries: 6, ok: 3, corrupt: [{ key: keyOf('gen/i=1'), files: ['v.txt'] }] });
    expect((verify.json.downstream as { name: string }[]).map((d) => d.name).sort()).toEqual(['mid[i=1]', 'sum']);
    // Removed, not stale: nothing about them changed.
    expect((await lw(['status', p.file, '--json'], p.dir)).json).toMatchObject({ tasks: 6, cached: 3, stale: 0, missing: 3 });
    const rerun = await lw(['run', p.file, '--json'], p.dir);
    expect(rerun.json).toEqual({ tasks: 6, ran: 3, cached: 3, failed: 0 });
    expect(p.executions().slice(6).sort()).toEqual(['gen1', 'mid1', 'sum']);
    expect((await lw(['verify', '--json'], p.dir)).json).toMatchObject({ entries: 6, ok: 6, corrupt: [], downstream: [] });
  });
});
