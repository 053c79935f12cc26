import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Size and mtime (nanoseconds where the file system has them) of every file in a cache entry:
 * the fast path of the entry checks. A file whose size and mtime are what they were when it was
 * published (or last verified) is taken as unchanged; any other file is re-hashed. The no-op run
 * stamp keeps a digest of these stats for all of a pipeline's entries. Node built-ins only: the
 * stamp's fast path (noop-stamp.ts) imports this module.
 */
export interface FileStat {
  size: bigint;
  mtimeNs: bigint;
}

/** Relative path ('/'-separated) -> stat of every file (and symlink, followed) under `dir`. */
export function statTree(dir: string): Map<string, FileStat> {
  const out = new Map<string, FileStat>();
  const walk = (d: string, prefix: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, `${prefix}${e.name}/`);
      else if (e.isFile() || e.isSymbolicLink()) {
        const st = statSync(p, { bigint: true });
        out.set(`${prefix}${e.name}`, { size: st.size, mtimeNs: st.mtimeNs });
      }
    }
  };
  walk(dir, '');
  return out;
}

/** One string for a tree's stats: equal strings mean no file was added, removed, resized or touched. */
export function signatureOf(stats: Map<string, FileStat>): string {
  return [...stats]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([f, s]) => `${f}\0${s.size}\0${s.mtimeNs}`)
    .join('\n');
}
