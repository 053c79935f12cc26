import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { BackendInfo } from '@lw/models';
import { writeFileAtomic } from './files.js';

/**
 * `params.json` beside every task's outputs (as timm writes args.yaml): the stage, its fully
 * resolved params, the backend that ran the numbers, and the versions of the packages involved.
 */
const require = createRequire(import.meta.url);

/** The version in the nearest package.json above the package's entry file named `pkg`. */
function versionOf(pkg: string): string | undefined {
  let dir: string;
  try {
    dir = dirname(require.resolve(pkg));
  } catch {
    return undefined;
  }
  for (; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const json = JSON.parse(readFileSync(file, 'utf8'));
    if (json.name === pkg) return json.version;
  }
  return undefined;
}

export function packageVersions(): Record<string, string | undefined> {
  const names = ['@lw/core', '@lw/data', '@lw/eval', '@lw/models', '@lw/train', '@tensorflow/tfjs-core', 'apache-arrow'];
  return { node: process.versions.node, ...Object.fromEntries(names.map((n) => [n, versionOf(n)])) };
}

export function writeTaskParams(outDir: string, info: { stage: string; params: unknown; backend: BackendInfo; extra?: Record<string, unknown> }): void {
  const body = { stage: info.stage, params: info.params, backend: info.backend, versions: packageVersions(), ...info.extra };
  writeFileAtomic(join(outDir, 'params.json'), JSON.stringify(body, null, 2) + '\n');
}
