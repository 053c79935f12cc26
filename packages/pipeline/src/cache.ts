import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { listFiles } from './fingerprint.js';
import type { KeyInputs } from './key.js';
import { processAlive, readLock } from './lock.js';

/**
 * The content-addressed cache. Layout under the cache dir:
 *   <k0k1>/<key>/            a published entry: the task's outputs plus
 *       task.json            the key inputs (exactly what was hashed into the key)
 *       checksums.json       sha256 and size of every output file
 *       result.json          the stage's summary, timing, host
 *   specs/<key>.json         task specs for `lw task KEY` (executor.ts)
 *   locks/<key>.lock         per-key locks (lock.ts)
 *   tmp/<key>.<host>.<pid>/  entries being written; published by one rename
 *   scratch/<key>/           per-key scratch that survives crashes (resume mid-task)
 *   logs/<key>.log           the output of the task's last run
 *   progress/<key>.json      the running task's progress (for remote executors)
 */
export const RESERVED = ['task.json', 'checksums.json', 'result.json'];

export const ManifestSchema = z.object({
  files: z.record(z.string(), z.object({ sha256: z.string(), size: z.number() })),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export const ResultSchema = z.object({
  key: z.string(),
  name: z.string(),
  stage: z.string(),
  summary: z.record(z.string(), z.unknown()),
  started: z.string(),
  finished: z.string(),
  seconds: z.number(),
  host: z.string(),
});
export type EntryResult = z.infer<typeof ResultSchema>;

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
   * Writes task.json, checksums.json and result.json into `tmp`, then renames it into place.
   * Returns false when another writer published the key first (its entry is kept; ours dropped).
   */
  publish(tmp: string, keyInputs: KeyInputs, result: EntryResult): boolean {
    for (const name of RESERVED) {
      if (existsSync(join(tmp, name))) throw new Error(`the stage wrote ${name}, a name the cache reserves for itself`);
    }
    const manifest = manifestOf(tmp);
    writeFileSync(join(tmp, 'task.json'), JSON.stringify(keyInputs, null, 2) + '\n');
    writeFileSync(join(tmp, 'checksums.json'), JSON.stringify(manifest, null, 2) + '\n');
    writeFileSync(join(tmp, 'result.json'), JSON.stringify(result, null, 2) + '\n');
    const final = this.entryDir(result.key);
    mkdirSync(join(final, '..'), { recursive: true });
    try {
      renameSync(tmp, final);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      rmSync(tmp, { recursive: true, force: true });
      return false;
    }
  }

  readTask(key: string): KeyInputs | undefined {
    const p = join(this.entryDir(key), 'task.json');
    return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as KeyInputs) : undefined;
  }

  readResult(key: string): EntryResult | undefined {
    const p = join(this.entryDir(key), 'result.json');
    return existsSync(p) ? ResultSchema.parse(JSON.parse(readFileSync(p, 'utf8'))) : undefined;
  }

  /** Files whose bytes no longer match the manifest (missing, changed, or unlisted extra). */
  verify(key: string): string[] {
    const dir = this.entryDir(key);
    let manifest: Manifest;
    try {
      manifest = ManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'checksums.json'), 'utf8')));
    } catch {
      return ['checksums.json'];
    }
    if (!existsSync(join(dir, 'task.json'))) return ['task.json'];
    const bad: string[] = [];
    const present = new Set(listFiles(dir).filter((f) => !RESERVED.includes(f)));
    for (const [file, want] of Object.entries(manifest.files)) {
      if (!present.has(file)) bad.push(file);
      else if (hashFile(join(dir, file)) !== want.sha256) bad.push(file);
      present.delete(file);
    }
    return [...bad, ...present];
  }

  /** Removes an entry: renamed away first, so readers never see it half-deleted. */
  remove(key: string): void {
    const aside = join(this.dir, 'tmp', `${key}.removing.${process.pid}.${Date.now()}`);
    mkdirSync(join(this.dir, 'tmp'), { recursive: true });
    renameSync(this.entryDir(key), aside);
    rmSync(aside, { recursive: true, force: true });
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
        rmSync(join(tmp, name), { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }

  /** After a task runner died without cleaning up (SIGKILL): its temp dirs and its lock go. */
  cleanupAfter(key: string, pid: number): void {
    const prefix = `${key}.${hostname()}.${pid}.`;
    const tmp = join(this.dir, 'tmp');
    if (existsSync(tmp)) for (const name of readdirSync(tmp)) if (name.startsWith(prefix)) rmSync(join(tmp, name), { recursive: true, force: true });
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

export function hashFile(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export function manifestOf(dir: string): Manifest {
  const files: Manifest['files'] = {};
  for (const f of listFiles(dir)) {
    if (RESERVED.includes(f)) continue;
    const p = join(dir, f);
    files[f] = { sha256: hashFile(p), size: statSync(p).size };
  }
  return { files };
}
