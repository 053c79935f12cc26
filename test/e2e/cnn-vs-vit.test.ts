import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { repoRoot } from '@lw/core';
import { e2e } from '@lw/core/testing/system-parts';

// pipelines/cnn-vs-vit.yaml reduced (one seed, fewer epochs, the same data set and models), run by
// `lw run` as a user would: both arms write a metrics row per epoch, and both learn the 8 toy
// classes (val top-1 well above chance 1/8; the file's full run: README "A CNN arm").
// Slow (a few minutes on 2 cores), so it runs where LW_E2E is set (CI sets it).
const root = repoRoot();
const lw = join(root, 'packages/pipeline/bin/lw.js');
const EPOCHS = 6;

function reducedCopy(dir: string): string {
  const file = parse(readFileSync(join(root, 'pipelines/cnn-vs-vit.yaml'), 'utf8'));
  file.vars.epochs = EPOCHS;
  for (const arm of ['vit', 'cnn']) file.stages[arm].matrix.seed = [1];
  const out = join(dir, 'cnn-vs-vit.yaml');
  writeFileSync(out, stringify(file));
  return out;
}

const rows = (csv: string) => {
  const [head, ...lines] = readFileSync(csv, 'utf8').trim().split('\n');
  const names = head!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [names[i]!, Number(v)])));
};

describe.runIf(e2e())('pipelines/cnn-vs-vit.yaml (reduced: 1 seed)', () => {
  it('trains the ViT and the ResNet side by side, and both learn', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-cnn-vit-'));
    const r = spawnSync(process.execPath, [lw, 'run', reducedCopy(dir), '--cache', join(dir, 'cache'), '--results', join(dir, 'results'), '--json'],
      { cwd: root, encoding: 'utf8', timeout: 20 * 60_000 });
    expect(r.status, `lw run failed:\n${r.stderr.slice(-4000)}`).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toMatchObject({ tasks: 3, ran: 3, failed: 0 });
    const index = JSON.parse(readFileSync(join(dir, 'results', 'cnn-vs-vit', 'results.json'), 'utf8')) as Record<string, Record<string, string>>;
    for (const arm of ['vit', 'cnn']) {
      const entry = Object.values(index[arm]!)[0]!;
      const m = rows(join(entry, 'metrics.csv'));
      expect(m.map((x) => x.epoch)).toEqual(Array.from({ length: EPOCHS }, (_, i) => i + 1));
      const last = m.at(-1)!;
      // 391 val items: chance 0.125 has a standard error of 0.017, so 0.25 is > 7 SE above it.
      expect(last.val_acc, `${arm} val top-1`).toBeGreaterThan(0.25);
      expect(last.train_loss, `${arm} train loss`).toBeLessThan(m[0]!.train_loss);
      expect(Number.isFinite(last.rsa_rho)).toBe(true);
      // Layer-wise RSA every epoch; its output row is metrics' RSA.
      const layers = readFileSync(join(entry, 'layer_rsa.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
      const names = [...new Set(layers.map((l) => l[2]))];
      expect(names, arm).toEqual(arm === 'vit' ? ['block0', 'block1', 'output'] : ['layer1', 'layer2', 'layer3', 'output']);
      expect(layers.filter((l) => l[2] === 'output').map((l) => Number(l[3]))).toEqual(m.map((x) => x.rsa_rho));
    }
  });
});
