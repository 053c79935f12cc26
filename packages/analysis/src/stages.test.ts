import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StageContext, TaskResult } from '@lw/core';
import { criticalPeriods } from './stages.js';

const HEADER = 'epoch,train_loss,test_loss,behavioral_rsa_rho,behavioral_rsa_p_value,used_random_targets,used_shuffled_targets,used_uniform_images,used_image_noise';
const FLAG: Record<string, number> = { random_target: 0, label_shuffle: 1, blank_image: 2, image_noise: 3 };

/** Baseline test loss 100/e + 10 falls to epoch 8, then rises (8 is the minimum: 22.5); ρ = 0.05·e. */
const baseLoss = (e: number) => (e <= 8 ? 100 / e + 10 : 22.5 + (e - 8));
const baseRho = (e: number) => 0.05 * e;

function behaviourCsv(epochs: number[], loss: (e: number) => number, rho: (e: number) => number, perturbed?: { type: string; start: number; length: number }): string {
  const lines = epochs.map((e) => {
    const flags = [false, false, false, false];
    if (perturbed && e >= perturbed.start && e < perturbed.start + perturbed.length) flags[FLAG[perturbed.type]!] = true;
    return [e, 1, loss(e), rho(e), 0.01, ...flags.map((f) => (f ? 'True' : 'False'))].join(',');
  });
  return [HEADER, ...lines].join('\n') + '\n';
}

function task(root: string, name: string, stage: string, params: Record<string, unknown>, files: Record<string, string>, condition = {}): TaskResult {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return { dir, key: `key-${name}`, stage, params, condition };
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('stage analysis/critical-periods', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lw-analysis-stage-'));
  const baseline = task(root, 'baseline', 'train/behavior', { seed: 1, epochs: 12 }, { 'metrics.csv': behaviourCsv(range(1, 12), baseLoss, baseRho) });
  const perturbRun = (name: string, type: string, start: number, length: number, seed: number, extra: (e: number) => number) =>
    task(
      root,
      name,
      'train/behavior',
      { seed: 1, epochs: 12, perturb: { type, start, length, seed } },
      { 'metrics.csv': behaviourCsv(range(start, 12), (e) => baseLoss(e) + extra(e), (e) => baseRho(e) - extra(e) / 100, { type, start, length }) },
      { type, start },
    );
  // Baseline losses: epoch 3: 43.33, 4: 35, 5: 30, 6: 26.67, 7: 24.29, 8: 22.5 (min), 9..12: 23.5..26.5.
  const runs = [
    perturbRun('rt3-s42', 'random_target', 3, 1, 42, (e) => (e === 3 ? 6 : e === 4 ? 3 : 0)),
    perturbRun('rt3-s43', 'random_target', 3, 1, 43, (e) => (e === 3 ? 8 : e === 4 ? 4 : e === 5 ? 0.5 : 0)),
    perturbRun('rt2-l3', 'random_target', 2, 3, 42, (e) => (e <= 4 ? 20 : e <= 6 ? 1 : 0)),
    // Never recovers: stays 5 above the baseline to the end.
    perturbRun('ls3-nr', 'label_shuffle', 3, 1, 42, () => 5),
    perturbRun('bi3', 'blank_image', 3, 1, 42, (e) => (e === 3 ? 2 : 0)),
    perturbRun('rt5-l2-nr', 'random_target', 5, 2, 42, () => 3),
    // Stops at epoch 12, inside its window 9..13: never recovered, although its loss equals the baseline's.
    perturbRun('rt9-l5-cut', 'random_target', 9, 5, 42, () => 0),
  ];
  const broken = task(root, 'broken', 'train/behavior', { seed: 1, perturb: { type: 'image_noise', start: 4, length: 1, seed: 42 } }, {});
  const classify = 'epoch,train_loss,val_loss,val_acc,rsa_rho,rsa_p_value';
  const vit = task(root, 'vit', 'train/classify', { seed: 1, epochs: 10 }, {
    'metrics.csv': [classify, ...range(1, 10).map((e) => `${e},5,${(8 - 0.5 * e).toFixed(2)},0.${e},${(0.3 + 0.02 * e).toFixed(2)},0.001`)].join('\n') + '\n',
  });
  const vitPerturb = [
    task(root, 'vit-gauss-5', 'train/classify', { seed: 1, perturb: { type: 'image_noise', start: 5, length: 1, seed: 42 } }, {
      'metrics.csv': `${classify},perturbation,perturb_epoch\n5,6,6.25,0.2,0.31,0.01,image_noise,5\n`,
    }),
  ];
  const outDir = join(root, 'out');
  mkdirSync(outDir);
  const log: string[] = [];
  const ctx: StageContext<never> = {
    params: criticalPeriods.params.parse({ fig2Epochs: [3], pipeline: { file: 'pipelines/sweep.yaml', name: 'critical-periods' } }) as never,
    inputs: { baseline, runs: [...runs, broken], vit, vitPerturb },
    outDir,
    taskKey: 'k',
    taskName: 'figures',
    log: (m) => log.push(m),
    progress: () => {},
    signal: new AbortController().signal,
    scratchDir: join(root, 'scratch'),
  };
  const summary = await criticalPeriods.run(ctx as never);
  const csv = (name: string) => readFileSync(join(outDir, name), 'utf8').trim().split('\n').map((l) => l.split(','));

  it('analyses every readable run and reports the broken one by name', () => {
    expect(summary).toMatchObject({ runs: 8, problems: 1 });
    expect(log.join('\n')).toMatch(/skipped train\/behavior key-broken: .*broken: no metrics file/);
  });

  it('takes conditions from task params and deltas against the baseline at the perturbed epoch', () => {
    const effects = csv('effects.csv');
    const cols = effects[0]!;
    const get = (r: string[], c: string) => r[cols.indexOf(c)]!;
    const rt = effects.filter((r) => get(r, 'type') === 'random_target' && get(r, 'length') === '1');
    expect(rt.map((r) => [get(r, 'start'), get(r, 'perturb_seed'), Number(get(r, 'delta_test_loss'))])).toEqual([
      ['3', '42', 6],
      ['3', '43', 8],
    ]);
    // ViT: 6.25 − (8 − 0.5·5 = 5.5) = 0.75; ρ 0.31 − (0.3 + 0.02·5 = 0.4) = −0.09.
    const v = effects.find((r) => get(r, 'model') === 'ViT')!;
    expect([get(v, 'type'), get(v, 'start'), Number(get(v, 'delta_test_loss'))]).toEqual(['image_noise', '5', 0.75]);
    expect(Number(get(v, 'delta_rsa'))).toBeCloseTo(-0.09, 12);
  });

  it('computes recovery with NR, and none for one-epoch ViT measurements', () => {
    const rec = csv('recovery.csv');
    // seed 42 (+6, +3): epoch 4: 38 > 1.01 × 35 = 35.35; epoch 5: 30 <= 30.3 -> 5 − 3 = 2.
    // seed 43 (+8, +4, +0.5): epoch 5: 30.5 > 30.3; epoch 6: 26.67 <= 26.93 -> 3.
    expect(rec.slice(1).filter((r) => r[3] === 'random_target' && r[1] === '1').map((r) => r[2])).toEqual(['2', '3']);
    // Length 3 from epoch 2: P = 4; epoch 5: 31 > 30.3; epoch 6: 27.67 > 26.93; epoch 7: on the baseline -> 7 − 4 = 3.
    // Label shuffle stays +5: past epoch 8 the threshold is 1.01 × 22.5 = 22.725 and the run is >= 23.5 + 5 = 28.5 -> NR.
    expect(rec.slice(1).find((r) => r[1] === '3')![2]).toBe('3');
    expect(rec.slice(1).find((r) => r[0] === '5' && r[1] === '2')![2]).toBe('NR');
    expect(rec.slice(1).find((r) => r[0] === '9' && r[1] === '5')![2]).toBe('NR');
    expect(rec.slice(1).find((r) => r[3] === 'label_shuffle')![2]).toBe('NR');
    expect(rec.slice(1).some((r) => r[rec[0]!.indexOf('model')] === 'ViT')).toBe(false);
  });

  it('summarises repeats of a condition with a t interval', () => {
    const s = csv('summary.csv');
    const cols = s[0]!;
    const row = s.find((r) => r[cols.indexOf('type')] === 'random_target' && r[cols.indexOf('length')] === '1' && r[cols.indexOf('measure')] === 'delta_test_loss')!;
    // Δ = 6 and 8: mean 7, s = √2, half-width t(0.975, 1) · √2/√2 = 12.706204736174694 (scipy).
    expect(Number(row[cols.indexOf('n')])).toBe(2);
    expect(Number(row[cols.indexOf('mean')])).toBe(7);
    expect(Number(row[cols.indexOf('ci_high')]) - 7).toBeCloseTo(12.706204736174694, 8);
  });

  it('draws Fig 1 with one panel per model and writes a report with provenance', () => {
    const fig1 = JSON.parse(readFileSync(join(outDir, 'fig1_baseline.vl.json'), 'utf8')) as { hconcat: Array<{ title: string }> };
    expect(fig1.hconcat.map((p) => p.title)).toEqual(['CLIP-HBA baseline, epochs 1–8 (min loss)', 'ViT baseline, epochs 1–10 (min loss)']);
    const html = readFileSync(join(outDir, 'report.html'), 'utf8');
    expect(html).toContain('pipelines/sweep.yaml');
    expect(html).toContain('key-rt3-s42');
    expect(html).toMatch(/broken: no metrics file/);
    for (const f of ['fig1_baseline', 'fig2_types', 'fig3_sweep', 'fig4_recovery', 'fig4b_alignment_recovery', 'fig5_deviations']) expect(html).toContain(`id="${f}"`);
  });
});
