import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { needs, pythonPath, pytorch } from '@lw/core/testing/system-parts';
import { modelConfig } from './config.js';

/** Helpers for tests only (not exported from the package index). */

/** A python3 that has torch and numpy (see @lw/core/testing/system-parts), or null: the tests that need it skip, saying so. */
export function pythonWithTorch(): string | null {
  return needs(pytorch) ? pythonPath() : null;
}

/** Runs fixtures/reference.py for the test-clip and test-vit configs; returns the output directory. */
export function makeReferenceFixtures(python: string): string {
  const out = mkdtempSync(join(tmpdir(), 'lw-models-ref-'));
  const cfgPath = join(out, 'configs.json');
  writeFileSync(cfgPath, JSON.stringify({ clip: modelConfig('test-clip'), vit: modelConfig('test-vit') }));
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'reference.py');
  execFileSync(python, [script, cfgPath, out], { stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}

/** max |a - b| / max(1, |b|) over all elements. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}

/** Deterministic inputs in [-1, 1) from a small LCG (independent of the code under test). */
export function lcg(seed: number, n: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}
