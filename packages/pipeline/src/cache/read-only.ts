import { chmodSync, lstatSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Published cache entries are read-only (files and directories), so that editing a result under
 * `.lw/results/...` (a link into the cache) fails instead of silently changing the cache. Removing
 * such a tree needs the write bits back on its directories first (unlinking a file needs write
 * permission on its directory; root skips the check, everyone else does not).
 */

/** Clears every write bit below `dir`, depth first; `top: false` leaves `dir` itself writable
 *  (a directory can only be renamed to another parent while writable: its `..` entry changes, so
 *  publish seals the top after the rename). Symlinks are left alone: chmod would follow them. */
export function sealTree(dir: string, top = true): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sealTree(p);
    else if (e.isFile()) chmodSync(p, statSync(p).mode & 0o7555);
  }
  if (top) chmodSync(dir, statSync(dir).mode & 0o7555);
}

/** Gives the owner write permission on `dir` and every directory below it (not on files). */
export function unsealDirs(dir: string): void {
  chmodSync(dir, statSync(dir).mode | 0o200);
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) unsealDirs(join(dir, e.name));
}

/** `rm -rf` that also removes a sealed tree; a path that is already gone is fine. */
export function removeTree(path: string): void {
  let isDir: boolean;
  try {
    isDir = lstatSync(path).isDirectory();
  } catch {
    return;
  }
  if (isDir) {
    try {
      unsealDirs(path);
    } catch {
      // Not ours to chmod (another user's tree): rmSync reports what it cannot remove.
    }
  }
  // Retries: a task's command killed a moment ago may still be creating a file in it (ENOTEMPTY).
  rmSync(path, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
}
