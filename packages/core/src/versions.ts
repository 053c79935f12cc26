import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The versions of the packages that produced a result, for provenance (params.json, report.html).
 */

/** The packages whose versions every task's params.json records (the task runner's list). */
export const provenancePackages = ['@lw/core', '@lw/data', '@lw/eval', '@lw/models', '@lw/train', '@tensorflow/tfjs-core', 'apache-arrow'] as const;

/**
 * `{ node, [name]: version }` for the packages `names`, resolved from the module `from` (default:
 * this one); 'unknown' for a package that does not resolve. Some packages do not export their
 * package.json, so it is found by walking up from the package's entry point.
 */
export function packageVersions(names: readonly string[], from: string = import.meta.url): Record<string, string> {
  const require = createRequire(from);
  const versionOf = (name: string): string => {
    let dir: string;
    try {
      dir = dirname(require.resolve(name));
    } catch {
      return 'unknown';
    }
    for (; dir !== dirname(dir); dir = dirname(dir)) {
      const file = join(dir, 'package.json');
      if (!existsSync(file)) continue;
      const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (json.name === name) return json.version ?? 'unknown';
    }
    return 'unknown';
  };
  return { node: process.versions.node, ...Object.fromEntries(names.map((n) => [n, versionOf(n)])) };
}
