import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Size and mtime (nanoseconds where the file system has them) of every file in a cache entry,
 * and the mtime of every directory: the fast path of the entry checks. A file whose size and
 * mtime are what they were when it was published is taken as unchanged; any other file is
 * re-hashed. The no-op run stamp keeps these stats for all of a pipeline's entries as they were
 * when checked, and re-stats them (a directory's mtime changes when a file is added to it or
 * removed). Node built-ins only: the stamp's fast path (noop-stamp.ts) imports this module.
 */
export interface FileStat {
  size: bigint;
  mtimeNs: bigint;
}

export interface TreeStat {
  /** Relative path ('/'-separated) -> stat, for every file (and symlink, followed). */
  files: Map<string, FileStat>;
  /** Relative path ('' for the top) -> mtime, for every directory. */
  dirs: Map<string, bigint>;
}

export function statTree(dir: string): TreeStat {
  const tree: TreeStat = { files: new Map(), dirs: new Map() };
  const walk = (d: string, rel: string) => {
    tree.dirs.set(rel, statSync(d, { bigint: true }).mtimeNs);
    const prefix = rel ? `${rel}/` : '';
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, `${prefix}${e.name}`);
      else if (e.isFile() || e.isSymbolicLink()) {
        const st = statSync(p, { bigint: true });
        tree.files.set(`${prefix}${e.name}`, { size: st.size, mtimeNs: st.mtimeNs });
      }
    }
  };
  walk(dir, '');
  return tree;
}

/** What the stamp re-stats: [absolute path, signature] of every directory and of the files not
 *  in `skip` (the cache's own files, which hold no results). */
export function stampRecords(dir: string, tree: TreeStat, skip: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const [rel, mtimeNs] of tree.dirs) out.push([rel ? join(dir, rel) : dir, `dir:${mtimeNs}`]);
  for (const [rel, s] of tree.files) if (!skip.includes(rel)) out.push([join(dir, rel), `${s.size}:${s.mtimeNs}`]);
  return out;
}

/** The signature `stampRecords` gave `path`, as it is now (throws when it is gone). */
export function signatureNow(path: string): string {
  const st = statSync(path, { bigint: true });
  return st.isDirectory() ? `dir:${st.mtimeNs}` : `${st.size}:${st.mtimeNs}`;
}
