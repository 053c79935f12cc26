import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Cache } from './cache.js';
import { gc, parseSize } from './gc.js';

function entry(cache: Cache, key: string, bytes: number, ageSeconds: number): void {
  const tmp = cache.makeTemp(key);
  writeFileSync(join(tmp, 'out.bin'), Buffer.alloc(bytes));
  cache.publish(tmp, { version: 1, stage: 'exec', code: 'c', params: {}, inputs: {}, files: {} }, { key, name: key.slice(0, 4), stage: 'exec', summary: {}, started: '', finished: '', seconds: 0, host: 'h' });
  const t = new Date(Date.now() - ageSeconds * 1000);
  utimesSync(join(cache.entryDir(key), 'result.json'), t, t);
}

describe('gc', () => {
  it('parses sizes in powers of 1024', () => {
    expect(parseSize('2048')).toBe(2048);
    expect(parseSize('500M')).toBe(500 * 2 ** 20);
    expect(parseSize('1.5G')).toBe(1.5 * 2 ** 30);
    expect(parseSize('2TiB')).toBe(2 * 2 ** 40);
    expect(() => parseSize('lots')).toThrow('not a size');
  });

  it('drops unkept entries, then the oldest past the budget, never kept ones', () => {
    const cache = new Cache(mkdtempSync(join(tmpdir(), 'lw-gc-')));
    cache.ensureLayout();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((x) => x.repeat(64));
    entry(cache, a, 1000, 400); // oldest
    entry(cache, b, 1000, 300);
    entry(cache, c, 1000, 200);
    entry(cache, d, 1000, 100); // newest
    const sizeOf = (k: string) => cache.entryStats(k).bytes;
    const dry = gc(cache, { maxBytes: sizeOf(c) + sizeOf(d), dryRun: true });
    expect(dry.removed.sort()).toEqual([a, b]);
    expect(cache.keys()).toHaveLength(4);
    const r = gc(cache, { keep: new Set([a, c, d]), maxBytes: sizeOf(c) + sizeOf(d) });
    // b is unreachable; the budget would then drop a (oldest), but a is kept.
    expect(r.removed).toEqual([b]);
    expect(cache.keys()).toEqual([a, c, d]);
  });
});
