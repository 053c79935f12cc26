import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { readTaskResultFile, writeTaskResultFile, type TaskResultFile } from '@lw/core';
import { listFiles } from './fingerprint.js';
import type { KeyInputs } from '../plan/key.js';
import { processAlive, readLock } from './lock.js';
import { checkEntry, manifestOf, RESERVED, type EntryCheck } from './manifest.js';
import { removeTree, sealTree } from './read-only.js';

export { checkEntry, hashFile, ManifestSchema, manifestOf, RESERVED, type EntryCheck, type Manifest } from './manifest.js';

/**
 * The content-addressed cache. Layout under the cache dir:
 *   <k0k1>/<key>/            a published entry: the task's outputs plus
 *       task.json            the key inputs (exactly what was hashed into the key)
 *       checksums.json       sha256, size and mtime of every output file (manifest.ts)
 *       result.json          the stage's summary, timing, host
 *   specs/<key>.json         task specs for `lw task KEY` (executor.ts)
 *   locks/<key>.lock         per-key locks (lock.ts)
 *   tmp/<key>.<host>.<pid>/  entries being written; published by one rename
 *   scratch/<key>/           per-key scratch that survives crashes (resume mid-task)
 *   logs/<key>.log           the output of the task's last run
 *   progress/<key>.json      the running task's progress (for remote executors)
 * Published entries are read-only, files and directories (read-only.ts).
 */

/** An entry's `result.json` (format defined in @lw/core, which its readers share). */
export type EntryResult = TaskResultFile;

export class Cache {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  entryDir(key: string): string {
    return join(this.dir, key.slice(0, 2), key);
  }
  /** An entry exists iff its directory exists: it appears only by the publishing rename. */
  has(key: string): boolean {
    return existsSync(this.entryDir(key));
  }
  specPath(key: string): string {
    return join(this.dir, 'specs', `${key}.json`);
  }
  lockPath(key: string): string {
    return join(this.dir, 'locks', `${key}.lock`);
  }
  logPath(key: string): string {
    return join(this.dir, 'logs', `${key}.log`);
  }
  progressPath(key: string): string {
    return join(this.dir, 'progress', `${key}.json`);
  }
  scratchDir(key: string): string {
    return join(this.dir, 'scratch', key);
  }

  ensureLayout(): void {
    for (const d of ['specs', 'locks', 'tmp', 'scratch', 'logs', 'progress']) mkdirSync(join(this.dir, d), { recursive: true });
  }

  /** A fresh temp dir on the cache's file system, named so a later run can tell whose it was. */
  makeTemp(key: string): string {
    const dir = join(this.dir, 'tmp', `${key}.${hostname()}.${process.pid}.${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /**
   * Writes task.json, checksums.json and result.json into `tmp`, makes it read-only, then renames
   * it into place. Returns false when another writer published the key first (its entry is kept;
   * ours dropped).
   */
  publish(tmp: string, keyInputs: KeyInputs, result: EntryResult): boolean {
    for (const name of RESERVED) {
      if (existsSync(join(tmp, name))) throw new Error(`the stage wrote ${name}, a name the cache reserves for itself`);
    }
    const manifest = manifestOf(tmp);
    writeFileSync(join(tmp, 'task.json'), JSON.stringify(keyInputs, null, 2) + '\n');
    writeFileSync(join(tmp, 'checksums.json'), JSON.stringify(manifest, null, 2) + '\n');
    writeTaskResultFile(tmp, result);
    const final = this.entryDir(result.key);
    mkdirSync(join(final, '..'), { recursive: true });
    sealTree(tmp, false);
    try {
      renameSync(tmp, final);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      removeTree(tmp);
      return false;
    }
    chmodSync(final, statSync(final).mode & 0o7555);
    return true;
  }

  readTask(key: string): KeyInputs | undefined {
    const p = join(this.entryDir(key), 'task.json');
    return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as KeyInputs) : undefined;
  }

  readResult(key: string): EntryResult | undefined {
    return readTaskResultFile(this.entryDir(key));
  }

  /** Files whose bytes no longer match the manifest (missing, changed, or unlisted extra): every file hashed. */
  verify(key: string): string[] {
    return checkEntry(this.entryDir(key), { full: true }).bad;
  }

  /** The check before an entry is used (consumed as an input, or served as cached): only files
   *  whose size or mtime changed since publish are hashed. */
  check(key: string): EntryCheck {
    return checkEntry(this.entryDir(key));
  }

  /** Removes an entry: renamed away first, so readers never see it half-deleted. False if it was
   *  already gone (another process removed it first). */
  remove(key: string): boolean {
    const aside = join(this.dir, 'tmp', `${key}.removing.${process.pid}.${Date.now()}`);
    mkdirSync(join(this.dir, 'tmp'), { recursive: true });
    const dir = this.entryDir(key);
    try {
      // Moving a directory to another parent rewrites its `..`: it must be writable for that.
      chmodSync(dir, statSync(dir).mode | 0o200);
      renameSync(dir, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    removeTree(aside);
    return true;
  }

  /** Every published key. */
  keys(): string[] {
    if (!existsSync(this.dir)) return [];
    const out: string[] = [];
    for (const shard of readdirSync(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const key of readdirSync(join(this.dir, shard))) if (/^[0-9a-f]{64}$/.test(key)) out.push(key);
    }
    return out.sort();
  }

  /** Removes temp dirs left by dead processes on this host (a crash or kill -9 mid-task). */
  sweepTemp(): number {
    const tmp = join(this.dir, 'tmp');
    if (!existsSync(tmp)) return 0;
    let removed = 0;
    for (const name of readdirSync(tmp)) {
      const m = /^[0-9a-f]{64}\.(.+)\.(\d+)\.\d+$/.exec(name);
      const orphan = m ? m[1] === hostname() && !processAlive(Number(m[2])) : name.includes('.removing.');
      if (orphan) {
        removeTree(join(tmp, name));
        removed++;
      }
    }
    return removed;
  }

  /** After a task runner died without cleaning up (SIGKILL): its temp dirs and its lock go. */
  cleanupAfter(key: string, pid: number): void {
    const prefix = `${key}.${hostname()}.${pid}.`;
    const tmp = join(this.dir, 'tmp');
    if (existsSync(tmp)) for (const name of readdirSync(tmp)) if (name.startsWith(prefix)) removeTree(join(tmp, name));
    const lock = readLock(this.lockPath(key));
    if (lock && lock.pid === pid && lock.host === hostname()) rmSync(this.lockPath(key), { force: true });
  }

  /** Bytes used by an entry and its newest mtime (for gc's oldest-first budget). */
  entryStats(key: string): { bytes: number; mtimeMs: number } {
    const dir = this.entryDir(key);
    let bytes = 0;
    for (const f of listFiles(dir)) bytes += statSync(join(dir, f)).size;
    return { bytes, mtimeMs: statSync(join(dir, 'result.json')).mtimeMs };
  }
}
