import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StageContext, TaskResult } from '@lw/core';
import { criticalPeriods } from './stages.js';

const HEADER = 'epoch,train_loss,test_loss,behavioral_rsa_rho,behavioral_rsa_p_value,used_random_targets,used_shuffled_targets,used_uniform_images,used_image_noise';
const FLAG: Record<string, number> = { random_target: 0, label_shuffle: 1, blank_image: 2, image_noise: 3 };
const CLASSIFY = 'epoch,train_loss,val_loss,val_acc,rsa_rho,rsa_p_value';

/**
 * CLIP-HBA baselines of seeds 1, 2, 3: test loss 100/e + 10 + (s − 2) falls to epoch 8, then rises
 * (epoch 8 is every seed's minimum); ρ = 0.05·e + 0.01·(s − 2). The seed offsets make a run paired
 * with another seed's baseline show ±1 loss and ±0.01 ρ that are not its effect.
 */
const baseLoss = (e: number, s: number) => (e <= 8 ? 100 / e + 10 : 22.5 + (e - 8)) + (s - 2);
const baseRho = (e: number, s: number) => 0.05 * e + 0.01 * (s - 2);
/** ViT baselines: val loss 8 − 0.5·e + 0.1·(s − 2) (minimum at the last epoch, 10); ρ = 0.3 + 0.02·e + 0.005·(s − 2). */
const vitLoss = (e: number, s: number) => 8 - 0.5 * e + 0.1 * (s - 2);
const vitRho = (e: number, s: number) => 0.3 + 0.02 * e + 0.005 * (s - 2);
const SEEDS = [1, 2, 3];

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

/** A CLIP-HBA run of seed s: the baseline of s plus `dLoss(e)` on the loss and `dRho(e)` on ρ. */
function clipRun(root: string, s: number, type: string, start: number, length: number, dLoss: (e: number) => number, dRho: (e: number) => number): TaskResult {
  return task(
    root,
    `${type}-e${start}-l${length}-s${s}`,
    'train/behavior',
    { seed: s, epochs: 12, perturb: { type, start, length, seed: 42, distribution: 'target' } },
    { 'metrics.csv': behaviourCsv(range(start, 12), (e) => baseLoss(e, s) + dLoss(e), (e) => baseRho(e, s) + dRho(e), { type, start, length }) },
    { type, start, length, seed: s },
  );
}

/** A ViT measurement of seed s at epoch 5, with params as train/classify writes them (the study's type names). */
function vitRun(root: string, s: number, type: string, dLoss: number, dRho: number): TaskResult {
  return task(
    root,
    `vit-${type}-s${s}`,
    'train/classify',
    { seed: s, epochs: 10, perturb: { type, start: 5, length: 1, seed: 42, std: 0.1 } },
    { 'metrics.csv': `${CLASSIFY},perturbation,perturb_epoch\n5,6,${vitLoss(5, s) + dLoss},0.2,${vitRho(5, s) + dRho},0.01,${type},5\n` },
    { type, start: 5, seed: s },
  );
}

function context(root: string, inputs: Record<string, TaskResult | TaskResult[]>, params: Record<string, unknown>): StageContext<never> & { lines: string[] } {
  const outDir = join(root, 'out');
  mkdirSync(outDir, { recursive: true });
  const lines: string[] = [];
  return {
    params: criticalPeriods.params.parse(params) as never,
    inputs,
    outDir,
    taskKey: 'k',
    taskName: 'report',
    log: (m) => lines.push(m),
    progress: () => {},
    signal: new AbortController().signal,
    scratchDir: join(root, 'scratch'),
    threads: 1,
    gpus: [],
    record: () => {},
    lines,
  };
}

/** One CSV line's cells, with RFC 4180 quotes (run names hold commas). */
function cells(line: string): string[] {
  const out: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') out.push(cell), (cell = '');
    else cell += c;
  }
  return [...out, cell];
}

function readCsv(dir: string, name: string): Array<Record<string, string>> {
  const [head, ...lines] = readFileSync(join(dir, name), 'utf8').trim().split('\n');
  const cols = cells(head!);
  return lines.map((l) => Object.fromEntries(cells(l).map((v, i) => [cols[i]!, v])));
}

/** Two-sided p of a t statistic with df = 2 in closed form: 1 − |t| / √(2 + t²) (no incomplete beta). */
const pDf2 = (t: number) => 1 - Math.abs(t) / Math.sqrt(2 + t * t);
/** t of three differences: mean / (s / √3). */
const t3 = (d: number[]) => {
  const m = (d[0]! + d[1]! + d[2]!) / 3;
  const sd = Math.sqrt(d.reduce((a, x) => a + (x - m) ** 2, 0) / 2);
  return m / (sd / Math.sqrt(3));
};

describe('stage analysis/critical-periods, three seeds, both arms', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lw-analysis-stage-'));
  const baselines = SEEDS.map((s) => task(root, `baseline-s${s}`, 'train/behavior', { seed: s, epochs: 12 }, { 'metrics.csv': behaviourCsv(range(1, 12), (e) => baseLoss(e, s), (e) => baseRho(e, s)) }, { seed: s }));
  const vits = SEEDS.map((s) => task(root, `vit-s${s}`, 'train/classify', { seed: s, epochs: 10 }, {
    'metrics.csv': [CLASSIFY, ...range(1, 10).map((e) => `${e},5,${vitLoss(e, s)},0.${e},${vitRho(e, s)},0.001`)].join('\n') + '\n',
  }, { seed: s }));
  const k = (s: number) => s - 1;
  const runs = SEEDS.flatMap((s) => [
    // Beyond seed noise: ΔLoss 6, 7, 8 and Δρ −0.06, −0.07, −0.08 at E = 3; half the loss left at 4, none at 5.
    clipRun(root, s, 'random_target', 3, 1, (e) => (e === 3 ? [6, 7, 8][k(s)]! : e === 4 ? [6, 7, 8][k(s)]! / 2 : 0), (e) => (e === 3 ? -[6, 7, 8][k(s)]! / 100 : 0)),
    // Within seed noise: ΔLoss 0.5, −0.4, 0.2 and Δρ −0.005, 0.004, −0.002, gone after E.
    clipRun(root, s, 'label_shuffle', 3, 1, (e) => (e === 3 ? [0.5, -0.4, 0.2][k(s)]! : 0), (e) => (e === 3 ? -[0.5, -0.4, 0.2][k(s)]! / 100 : 0)),
    // A 3-epoch window from 2: ΔLoss 20, 21, 22 through epoch 4, +1 at 5 and 6; Δρ −0.20, −0.21, −0.22 at E = 2.
    clipRun(root, s, 'random_target', 2, 3, (e) => (e <= 4 ? [20, 21, 22][k(s)]! : e <= 6 ? 1 : 0), (e) => (e === 2 ? -[20, 21, 22][k(s)]! / 100 : 0)),
    // Loss up and ρ up together (the two part ways): ΔLoss 4, 5, 6 and Δρ +0.04, +0.05, +0.06 at E = 5.
    clipRun(root, s, 'image_noise', 5, 1, (e) => (e === 5 ? [4, 5, 6][k(s)]! : 0), (e) => (e === 5 ? [4, 5, 6][k(s)]! / 100 : 0)),
  ]);
  const vitPerturb = SEEDS.flatMap((s) => [
    vitRun(root, s, 'gaussian', [0.7, 0.75, 0.8][k(s)]!, [-0.09, -0.1, -0.08][k(s)]!),
    vitRun(root, s, 'target_noise', [0.02, -0.03, 0.01][k(s)]!, [0.01, -0.02, 0.005][k(s)]!),
  ]);
  const ctx = context(root, { baseline: baselines, runs, vit: vits, vitPerturb }, { fig2Epochs: [3, 5], pipeline: { file: 'pipelines/sweep.yaml', name: 'sweep' } });
  const summary = await criticalPeriods.run(ctx as never);
  const out = ctx.outDir;
  const effects = readCsv(out, 'effects.csv');
  const table = readCsv(out, 'summary.csv');
  const row = (model: string, type: string, start: number, length: number, measure: string) =>
    table.find((r) => r.model === model && r.type === type && r.start === String(start) && r.length === String(length) && r.measure === measure)!;

  it('analyses every run of both arms without problems', () => {
    expect(summary).toMatchObject({ runs: 18, problems: 0, baselines: { 'CLIP-HBA': 3, ViT: 3 } });
    expect(ctx.lines.filter((l) => l.startsWith('skipped'))).toEqual([]);
    expect(effects.filter((e) => e.model === 'CLIP-HBA').length).toBe(12);
    expect(effects.filter((e) => e.model === 'ViT').length).toBe(6);
    expect(readFileSync(join(out, 'problems.csv'), 'utf8').trim()).toBe('source,message');
  });

  it('compares each run with the baseline of its own seed', () => {
    // Paired with its own seed, every run's ΔLoss is exactly the added 6, 7, 8 (another seed's baseline would add ±1).
    const rt3 = effects.filter((e) => e.type === 'random_target' && e.start === '3').sort((a, b) => Number(a.seed) - Number(b.seed));
    expect(rt3.map((e) => [e.seed, Number(e.delta_test_loss)])).toEqual([['1', 6], ['2', 7], ['3', 8]]);
    rt3.forEach((e, i) => expect(Number(e.delta_rsa)).toBeCloseTo(-[0.06, 0.07, 0.08][i]!, 12));
  });

  it('reads the ViT measurements from params.perturb and names their types as the CLIP-HBA arm does', () => {
    // gaussian is image noise: 0.7 loss, −0.09 ρ for seed 1 against the seed-1 ViT baseline at epoch 5.
    const g = effects.find((e) => e.model === 'ViT' && e.seed === '1' && e.type === 'image_noise')!;
    expect([g.perturbation, g.start, g.length]).toEqual(['image noise', '5', '1']);
    expect(Number(g.delta_test_loss)).toBeCloseTo(0.7, 12);
    expect(Number(g.delta_rsa)).toBeCloseTo(-0.09, 12);
    expect(effects.filter((e) => e.model === 'ViT').map((e) => e.type).sort()).toEqual(['image_noise', 'image_noise', 'image_noise', 'random_target', 'random_target', 'random_target']);
    expect(readCsv(out, 'recovery.csv').some((r) => r.model === 'ViT')).toBe(false);
  });

  it('gives each effect a mean, a 95% t-interval, a paired test and its BH q-value over the tested conditions', () => {
    const rt3 = row('CLIP-HBA', 'random_target', 3, 1, 'delta_test_loss');
    // 6, 7, 8: mean 7, s = 1, half-width t(0.975, 2)/√3 with t(0.975, 2) = 4.302652729749462 (scipy).
    expect([rt3.n, Number(rt3.mean)]).toEqual(['3', 7]);
    expect(Number(rt3.ci_high) - 7).toBeCloseTo(4.302652729749462 / Math.sqrt(3), 9);
    expect(Number(rt3.p)).toBeCloseTo(pDf2(Math.sqrt(147)), 10);
    // ΔRSA family, m = 6 tested conditions; p ascending: rt2L3, gaussian, rt3, image noise, label shuffle, target noise.
    const pRsa = {
      rt2L3: pDf2(t3([-0.2, -0.21, -0.22])), gauss: pDf2(t3([-0.09, -0.1, -0.08])), rt3: pDf2(t3([-0.06, -0.07, -0.08])),
      noise: pDf2(t3([0.04, 0.05, 0.06])), ls: pDf2(t3([-0.005, 0.004, -0.002])), tn: pDf2(t3([0.01, -0.02, 0.005])),
    };
    // q_(i) = min_{j >= i} p_(j) · 6 / j.
    const want = {
      rt2L3: pRsa.rt2L3 * 6, gauss: (pRsa.gauss * 6) / 2, rt3: (pRsa.rt3 * 6) / 3, noise: (pRsa.noise * 6) / 4, ls: Math.min((pRsa.ls * 6) / 5, pRsa.tn), tn: pRsa.tn,
    };
    const got = (model: string, type: string, start: number, length: number) => row(model, type, start, length, 'delta_rsa');
    const cases: Array<[keyof typeof want, ReturnType<typeof got>, string]> = [
      ['rt2L3', got('CLIP-HBA', 'random_target', 2, 3), 'yes'], ['gauss', got('ViT', 'image_noise', 5, 1), 'yes'],
      ['rt3', got('CLIP-HBA', 'random_target', 3, 1), 'yes'], ['noise', got('CLIP-HBA', 'image_noise', 5, 1), 'yes'],
      ['ls', got('CLIP-HBA', 'label_shuffle', 3, 1), 'no'], ['tn', got('ViT', 'random_target', 5, 1), 'no'],
    ];
    for (const [name, r, significant] of cases) {
      expect(Number(r.p), name).toBeCloseTo(pRsa[name], 8);
      expect(Number(r.q), name).toBeCloseTo(want[name], 8);
      expect(r.significant, name).toBe(significant);
    }
    // Measures without a test have empty p, q and significant.
    expect([row('CLIP-HBA', 'random_target', 3, 1, 'recovery_epochs').p, row('CLIP-HBA', 'random_target', 3, 1, 'recovery_epochs').significant]).toEqual(['', '']);
  });

  it('recovers each run against its own seed: loss recovery means with NR counts', () => {
    // E = 3: epoch 4 still +d/2 (> 1% of ~35), epoch 5 on the baseline -> 2 epochs. Window 2..4: epochs 5, 6 at +1 (> 1% of <= 31), 7 on it -> 3.
    expect(row('CLIP-HBA', 'random_target', 3, 1, 'recovery_epochs')).toMatchObject({ n: '3', mean: '2', n_nr: '0' });
    expect(row('CLIP-HBA', 'random_target', 2, 3, 'recovery_epochs')).toMatchObject({ n: '3', mean: '3', n_nr: '0' });
  });

  it('writes findings from the tests: beyond seed noise, within it, and where loss and ρ part ways', () => {
    const md = readFileSync(join(out, 'findings.md'), 'utf8');
    expect(md).toMatch(/Benjamini-Hochberg q < 0\.05, correcting for the 6 conditions tested for ΔRSA and the 6 tested for ΔLoss/);
    expect(md).toContain('## CLIP-HBA (3 baselines, seeds 1–3)');
    expect(md).toMatch(/\*\*random targets\.\*\* ΔRSA at the perturbed epoch \(3 seeds\): lowered beyond seed noise at E = 3 \(−0\.070 \[/);
    expect(md).toMatch(/\*\*label shuffle\.\*\* ΔRSA at the perturbed epoch \(3 seeds\): no start beyond seed noise \(E = 3; Δρ −0\.001 \[/);
    expect(md).toMatch(/\*\*image noise\.\*\* ΔRSA at the perturbed epoch \(3 seeds\): raised beyond seed noise at E = 5 .*Loss and alignment part ways beyond seed noise in both measures \(loss up with alignment up too\) at E = 5 \(ΔLoss \+5\.00 MSE, ΔRSA \+0\.050\)/);
    expect(md).toContain('## ViT (3 baselines, seeds 1–3)');
    expect(md).toMatch(/## ViT[^]*\*\*image noise\.\*\* ΔRSA at the perturbed epoch \(3 seeds\): lowered beyond seed noise at E = 5/);
    expect(md).toMatch(/## ViT[^]*\*\*random targets\.\*\* ΔRSA at the perturbed epoch \(3 seeds\): no start beyond seed noise.*Loss and alignment do not part ways/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html.indexOf('<section id="findings">')).toBeGreaterThan(0);
    expect(html.indexOf('<section id="findings">')).toBeLessThan(html.indexOf('<h2>Figures</h2>'));
  });

  it('draws Fig 1 as bands over seeds for both arms, Fig 2 with a ViT panel, every figure with its title', () => {
    const spec = (id: string) => JSON.parse(readFileSync(join(out, `${id}.vl.json`), 'utf8'));
    const fig1 = spec('fig1_baseline');
    expect(fig1.title.text).toBe('Fig 1. Alignment and loss along the baselines');
    expect(fig1.vconcat.map((r: { title: string }) => r.title)).toEqual([
      'CLIP-HBA baselines (3 seeds), epochs 1–8 (to the min-loss epoch)',
      'ViT baselines (3 seeds), epochs 1–10 (to the min-loss epoch)',
    ]);
    // The ρ band of CLIP-HBA at epoch 2: seeds give 0.09, 0.10, 0.11.
    const band = fig1.vconcat[0].hconcat[1].data.values.find((v: { epoch: number }) => v.epoch === 2);
    expect(band.n).toBe(3);
    expect(band.rsa_min).toBeCloseTo(0.09, 12);
    expect(band.rsa_max).toBeCloseTo(0.11, 12);
    const fig2 = spec('fig2_types');
    expect(fig2.vconcat.map((r: { title: string }) => r.title)).toEqual(['CLIP-HBA', 'ViT']);
    // A panel per type (ΔLoss row, then ΔRSA), named as everywhere else.
    expect(fig2.vconcat[1].vconcat[0].hconcat.map((p: { title: { text: string } }) => p.title.text)).toEqual(['random targets', 'image noise']);
    expect(fig2.vconcat[0].vconcat[1].hconcat.map((p: { title: { text: string } }) => p.title.text)).toEqual(['random targets', 'label shuffle', 'image noise']);
    for (const id of ['fig2_types', 'fig3_sweep', 'fig4_recovery', 'fig4b_alignment_recovery', 'fig5_deviations']) expect(spec(id).title.text).toMatch(/^Fig \d/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('pipelines/sweep.yaml');
    expect(html).toContain('key-baseline-s2');
    expect(html).not.toContain('Target noise');
  });
});

describe('stage analysis/critical-periods, runs it cannot use', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lw-analysis-stage-bad-'));
  const baselines = [1, 2].map((s) => task(root, `baseline-s${s}`, 'train/behavior', { seed: s }, { 'metrics.csv': behaviourCsv(range(1, 10), (e) => baseLoss(e, s), (e) => baseRho(e, s)) }));
  const good = clipRun(root, 2, 'random_target', 3, 1, (e) => (e === 3 ? 1 : 0), () => 0);
  const orphan = clipRun(root, 3, 'random_target', 4, 1, () => 0, () => 0);
  const broken = task(root, 'broken', 'train/behavior', { seed: 1, perturb: { type: 'image_noise', start: 4, length: 1, seed: 42 } }, {});
  const oldVit = task(root, 'old-vit', 'train/classify', { seed: 1, measure: { type: 'gaussian', seed: 42 } }, { 'metrics.csv': `${CLASSIFY}\n5,6,5,0.2,0.3,0.01\n` });
  const vit = task(root, 'vit', 'train/classify', { seed: 1 }, { 'metrics.csv': `${CLASSIFY}\n${range(1, 6).map((e) => `${e},5,${vitLoss(e, 1)},0.2,${vitRho(e, 1)},0.01`).join('\n')}\n` });
  // The ViT baseline as one task, not a list: the stage takes that too.
  const ctx = context(root, { baseline: baselines, runs: [good, orphan, broken], vit, vitPerturb: [oldVit] }, {});
  const summary = await criticalPeriods.run(ctx as never);

  it('analyses what it can and counts every skipped input as a problem, naming it', () => {
    expect(summary).toMatchObject({ runs: 1, problems: 3, baselines: { 'CLIP-HBA': 2, ViT: 1 } });
    const skipped = ctx.lines.filter((l) => l.startsWith('skipped')).join('\n');
    expect(skipped).toContain('skipped CLIP-HBA[type=random_target,start=4,length=1,seed=3]: no baseline has its seed 3 (baseline seeds: 1, 2)');
    expect(skipped).toMatch(/key-broken: .*broken: no metrics file/);
    expect(skipped).toMatch(/key-old-vit .*params\.measure is the old name/);
    expect(readFileSync(join(ctx.outDir, 'report.html'), 'utf8')).toContain('Problems (3)');
    expect(readFileSync(join(ctx.outDir, 'findings.md'), 'utf8')).toContain('3 inputs could not be analysed');
  });
});
