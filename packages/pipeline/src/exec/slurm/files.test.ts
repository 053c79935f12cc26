import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryExists, readProgress } from './files.js';

const key = 'ab'.repeat(32);

describe('cache files the executor reads', () => {
  it('reads the progress a running task rewrites, and nothing from a half-written file', () => {
    const cache = mkdtempSync(join(tmpdir(), 'lw-files-'));
    expect(readProgress(cache, key)).toBeUndefined();
    mkdirSync(join(cache, 'progress'));
    writeFileSync(join(cache, 'progress', `${key}.json`), JSON.stringify({ done: 3, total: 60, note: 'epoch 3', time: 'x' }));
    expect(readProgress(cache, key)).toEqual({ done: 3, total: 60, note: 'epoch 3' });
    writeFileSync(join(cache, 'progress', `${key}.json`), '{"done": 4, "tot');
    expect(readProgress(cache, key)).toBeUndefined();
  });

  it('finds an entry at <cache>/<key[0:2]>/<key>', () => {
    const cache = mkdtempSync(join(tmpdir(), 'lw-files-'));
    expect(entryExists(cache, key)).toBe(false);
    mkdirSync(join(cache, 'ab', key), { recursive: true });
    expect(entryExists(cache, key)).toBe(true);
  });
});
