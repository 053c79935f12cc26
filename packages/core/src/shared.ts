import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest ancestor of this file holding `nx.json`. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'nx.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repoRoot: no nx.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

/** `../shared` beside the checkout (override with LW_SHARED): real study data for tests, never copied. */
export function sharedDir(): string {
  return process.env.LW_SHARED ? resolve(process.env.LW_SHARED) : resolve(repoRoot(), '..', 'shared');
}
