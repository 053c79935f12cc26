import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Cache } from './cache.js';
import type { KeyInputs } from '../plan/key.js';
import { isStale, tryLock } from './lock.js';
import { removeTree, unsealDirs } from './read-only.js';

/** Write bits back on the entry (a user editing it on purpose), as read-only.ts documents. */
function unseal(dir: string, file: string): void {
  unsealDirs(dir);
  if (existsSync(join(dir, file))) chmodSync(join(dir, file), 0o644);
}

const keyInputs: KeyInputs = { version: 1, stage: 'exec', code: 'c', params: {}, inputs: {}, files: {} };
const result = (key: string) => ({ key, name: 't', stage: 'exec', summary: {}, started: '', finished: '', seconds: 0, host: 'h' });
const key = 'ab'.repeat(32);

describe('cache entries', () => {
  it('publish atomically; the first writer wins; verify finds changed, missing and extra files', () => {
    const cache = new Cache(mkdtempSync(join(tmpdir(), 'lw-cache-')));
    cache.ensureLayout();
    const a = cache.makeTemp(key);
    writeFileSync(join(a, 'out.txt'), 'first');
    expect(cache.publish(a, keyInputs, result(key))).toBe(true);
    const b = cache.makeTemp(key);
    writeFileSync(join(b, 'out.txt'), 'second');
    expect(cache.publish(b, keyInputs, result(key))).toBe(false);
    expect(existsSync(b)).toBe(false);
    expect(cache.keys()).toEqual([key]);
    expect(cache.verify(key)).toEqual([]);
    unseal(cache.entryDir(key), 'out.txt');
    writeFileSync(join(cache.entryDir(key), 'out.txt'), 'firsT');
    writeFileSync(join(cache.entryDir(key), 'stray.txt'), '');
    expect(cache.verify(key)).toEqual(['out.txt', 'stray.txt']);
    cache.remove(key);
    expect(cache.has(key)).toBe(false);
    expect(readdirSync(join(cache.dir, 'tmp'))).toEqual([]);
  });

  it('are read-only once published, and still removed whole', () => {
    const cache = new Cache(mkdtempSync(join(tmpdir(), 'lw-cache-')));
    cache.ensureLayout();
    const t = cache.makeTemp(key);
    mkdirSync(join(t, 'checkpoints'));
    writeFileSync(join(t, 'checkpoints', 'epoch1.bin'), 'w');
    cache.publish(t, keyInputs, result(key));
    const dir = cache.entryDir(key);
    for (const p of [dir, join(dir, 'checkpoints'), join(dir, 'checkpoints', 'epoch1.bin'), join(dir, 'checksums.json')]) expect(statSync(p).mode & 0o222).toBe(0);
    expect(cache.remove(key)).toBe(true);
    expect(cache.remove(key)).toBe(false);
    expect(readdirSync(join(cache.dir, 'tmp'))).toEqual([]);
    // The loser of a publish race drops its sealed temp dir.
    for (const text of ['a', 'b']) {
      const tmp = cache.makeTemp(key);
      mkdirSync(join(tmp, 'sub'));
      writeFileSync(join(tmp, 'sub', 'f'), text);
      cache.publish(tmp, keyInputs, result(key));
    }
    expect(readdirSync(join(cache.dir, 'tmp'))).toEqual([]);
    removeTree(cache.dir);
    expect(existsSync(cache.dir)).toBe(false);
  });

  it('check hashes only files whose size or mtime changed since publish; verify hashes all', () => {
    const cache = new Cache(mkdtempSync(join(tmpdir(), 'lw-cache-')));
    cache.ensureLayout();
    const t = cache.makeTemp(key);
    writeFileSync(join(t, 'out.txt'), 'first');
    cache.publish(t, keyInputs, result(key));
    const file = join(cache.entryDir(key), 'out.txt');
    expect(cache.check(key).bad).toEqual([]);
    unseal(cache.entryDir(key), 'out.txt');
    // Touched, same bytes: hashed and found intact.
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(cache.check(key).bad).toEqual([]);
    // Same size, new bytes (a new mtime): found, by both.
    writeFileSync(file, 'firsT');
    expect(cache.check(key).bad).toEqual(['out.txt']);
    expect(cache.verify(key)).toEqual(['out.txt']);
    // A new size is found without hashing; an added file too.
    writeFileSync(file, 'first!');
    writeFileSync(join(cache.entryDir(key), 'extra.txt'), '');
    expect(cache.check(key).bad).toEqual(['out.txt', 'extra.txt']);
  });

  it('refuses outputs that shadow the cache files', () => {
    const cache = new Cache(mkdtempSync(join(tmpdir(), 'lw-cache-')));
    cache.ensureLayout();
    const t = cache.makeTemp(key);
    writeFileSync(join(t, 'task.json'), '{}');
    expect(() => cache.publish(t, keyInputs, result(key))).toThrow('reserves');
  });
});

describe('locks', () => {
  it('are exclusive, released, and taken over from a dead holder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-lock-'));
    const path = join(dir, 'k.lock');
    const lock = tryLock(path)!;
    expect(lock).toBeDefined();
    expect(tryLock(path)).toBeUndefined();
    lock.release();
    expect(existsSync(path)).toBe(false);
    // A lock written by a process that has exited (as after kill -9) is stale at once.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(path, JSON.stringify({ host: hostname(), pid: Number(dead), started: '' }));
    expect(isStale(path)).toBe(true);
    const taken = tryLock(path);
    expect(taken).toBeDefined();
    taken!.release();
  });

  it('a live holder on another host is stale only after the heartbeat timeout', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-lock-'));
    const path = join(dir, 'k.lock');
    writeFileSync(path, JSON.stringify({ host: 'elsewhere', pid: 1, started: '' }));
    expect(isStale(path, 60_000)).toBe(false);
    expect(isStale(path, -1)).toBe(true);
  });
});
