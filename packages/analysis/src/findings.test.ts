import { describe, expect, it } from 'vitest';
import { AnalysisParams, analyzeStudy, type Arm } from './analyze.js';
import { truncateBaseline } from './effects.js';
import { buildFindings, epochList, type Findings, type TypeFindings } from './findings.js';
import type { EpochRow } from './metrics.js';
import { Condition, type Run } from './runs.js';

/**
 * Studies built in memory with known answers. Baseline of seed s: loss 100/e + 10 + 0.5·(s − 2)
 * (falling to its minimum at the last epoch, 12), ρ = 0.05·e + 0.01·(s − 2). A run adds dLoss and
 * dRho at its epochs; `bump` epochs after the window stay 5 above the baseline loss (1% of it is
 * at most 1.1), so its loss recovery takes exactly bump + 1 epochs.
 */
const EPOCHS = 12;
const baseLoss = (e: number, s: number) => 100 / e + 10 + 0.5 * (s - 2);
const baseRho = (e: number, s: number) => 0.05 * e + 0.01 * (s - 2);
const row = (epoch: number, loss: number, rsa: number): EpochRow => ({ epoch, train_loss: 0, test_loss: loss, rsa, rsa_p: null, perturbed: null });

function baseline(s: number) {
  const rows = Array.from({ length: EPOCHS }, (_, i) => row(i + 1, baseLoss(i + 1, s), baseRho(i + 1, s)));
  return truncateBaseline({ file: `base-s${s}.csv`, rows }, 'CLIP-HBA', s);
}

interface Spec {
  type: Condition['type'];
  start: number;
  length?: number;
  /** Per seed index: ΔLoss and Δρ at the start epoch. */
  dLoss: number[];
  dRho: number[];
  /** Epochs after the window still 5 above the baseline loss (null: never back, NR). */
  bump?: number | null;
}

function run(spec: Spec, s: number, k: number): Run {
  const length = spec.length ?? 1;
  const end = spec.start + length - 1;
  const bump = spec.bump === undefined ? 0 : spec.bump;
  const rows: EpochRow[] = [];
  for (let e = spec.start; e <= EPOCHS; e++) {
    const inWindow = e <= end;
    const late = bump === null || e <= end + bump;
    const dl = e === spec.start ? spec.dLoss[k]! : inWindow || late ? 5 : 0;
    rows.push(row(e, baseLoss(e, s) + dl, baseRho(e, s) + (e === spec.start ? spec.dRho[k]! : 0)));
  }
  return { name: `${spec.type}-e${spec.start}-l${length}-s${s}`, condition: Condition.parse({ type: spec.type, start: spec.start, length, seed: s }), table: { file: 'run.csv', rows } };
}

function study(specs: Spec[], seeds: number[]): Findings {
  const arm: Arm = { model: 'CLIP-HBA', baselines: seeds.map(baseline), runs: specs.flatMap((spec) => seeds.map((s, k) => run(spec, s, k))), runsContinue: true };
  const params = AnalysisParams.parse({});
  const results = analyzeStudy({ arms: [arm], problems: [] }, params);
  return buildFindings([arm], results, params);
}

const typeOf = (f: Findings, type: string): TypeFindings => f.models[0]!.types.find((t) => t.type === type)!;

describe('Findings: three seeds, known answers', () => {
  const f = study(
    [
      // Clearly beyond seed noise: Δρ −0.10, −0.11, −0.09 (t = −17.3, p = 0.0033), ΔLoss 8, 9, 10.
      { type: 'random_target', start: 3, dLoss: [8, 9, 10], dRho: [-0.1, -0.11, -0.09], bump: 1 },
      // Within it: Δρ +0.01, −0.02, +0.015 (mean +0.0017, s = 0.019: t = 0.15); ΔLoss 0.3, −0.5, 0.4.
      { type: 'label_shuffle', start: 3, dLoss: [0.3, -0.5, 0.4], dRho: [0.01, -0.02, 0.015] },
      // Loss up and ρ up, both beyond noise: ΔLoss 5, 6, 7 and Δρ +0.05, +0.06, +0.07.
      { type: 'image_noise', start: 5, dLoss: [5, 6, 7], dRho: [0.05, 0.06, 0.07] },
    ],
    [1, 2, 3],
  );

  it('says which test and correction stand behind "beyond seed noise"', () => {
    expect(f.preamble.join(' ')).toMatch(/t-test paired by seed .* Benjamini-Hochberg q < 0\.05, correcting for the 3 conditions tested for ΔRSA/);
    expect(f.preamble.join(' ')).not.toMatch(/one run/);
  });

  it('marks the effect beyond seed noise and the one within it', () => {
    const rt = typeOf(f, 'random_target');
    expect([rt.lowered, rt.raised, rt.withinNoise]).toEqual([[3], [], []]);
    // Mean −0.1 ± 4.3027 · 0.01/√3 = ±0.0248; t = −√300, p = 1 − √(300/302) = 0.00332, the smallest of 3: q = 3p = 0.00995.
    expect(rt.sentences[0]).toBe('ΔRSA at the perturbed epoch (3 seeds): lowered beyond seed noise at E = 3 (−0.100 [−0.125, −0.075], q = 0.010).');
    const ls = typeOf(f, 'label_shuffle');
    expect([ls.lowered, ls.raised, ls.withinNoise]).toEqual([[], [], [3]]);
    expect(ls.sentences[0]).toMatch(/no start beyond seed noise \(E = 3; Δρ \+0\.002 \[/);
    expect(typeOf(f, 'image_noise').raised).toEqual([5]);
  });

  it('finds where loss and alignment part ways beyond noise, and not where they do not', () => {
    expect(typeOf(f, 'image_noise').partWays).toEqual([{ start: 5, length: 1, dLoss: expect.closeTo(6, 10), dRsa: expect.closeTo(0.06, 10), beyondNoise: true }]);
    expect(typeOf(f, 'image_noise').sentences.at(-1)).toMatch(/^Loss and alignment part ways beyond seed noise in both measures \(loss up with alignment up too\) at E = 5 \(ΔLoss \+6\.00 MSE, ΔRSA \+0\.060\)\.$/);
    expect(typeOf(f, 'random_target').partWays).toEqual([]);
    expect(typeOf(f, 'random_target').sentences.at(-1)).toBe('Loss and alignment do not part ways: wherever the loss rose, ρ fell.');
  });

  it('states loss recovery from the runs', () => {
    // bump 1: one epoch after E = 3 still 5 above, back at 5 -> 2 epochs for every seed.
    expect(typeOf(f, 'random_target').sentences).toContain('Loss recovery (within 1.01× the baseline loss) after one epoch: 2 epochs at E = 3.');
  });
});

describe('Findings: one seed', () => {
  const f = study(
    [
      { type: 'random_target', start: 3, dLoss: [8], dRho: [-0.1] },
      { type: 'random_target', start: 5, dLoss: [6], dRho: [0.04] },
    ],
    [1],
  );

  it('says tests need at least two seeds and claims nothing beyond noise', () => {
    expect(f.preamble.join(' ')).toContain('needs ≥ 2 seeds per condition (3 recommended)');
    const rt = typeOf(f, 'random_target');
    expect([rt.raised, rt.lowered, rt.untestedUp, rt.untestedDown]).toEqual([[], [], [5], [3]]);
    const text = rt.sentences.join(' ');
    expect(text).not.toMatch(/beyond seed noise|significant|q = /);
    expect(text).toContain('ΔRSA at the perturbed epoch (one run each, no test): higher at E = 5 (+0.040); lower at E = 3 (−0.100).');
    expect(text).toContain('Loss and alignment part ways (loss up with alignment up too) at E = 5 (ΔLoss +6.00 MSE, ΔRSA +0.040); elsewhere (1 of 2) they move oppositely. One run per condition: not tested against seed noise.');
  });
});

describe('Findings: how recovery depends on start and length', () => {
  const f = study(
    [
      // One epoch at E = 2, 4, 6: 1, 3, 5 epochs above the baseline afterwards -> recovery 2, 4, 6 epochs.
      { type: 'random_target', start: 2, dLoss: [5], dRho: [0], bump: 1 },
      { type: 'random_target', start: 4, dLoss: [5], dRho: [0], bump: 3 },
      { type: 'random_target', start: 6, dLoss: [5], dRho: [0], bump: 5 },
      // Windows from E = 2: L = 2 back after 3 epochs, L = 4 never (NR).
      { type: 'random_target', start: 2, length: 2, dLoss: [5], dRho: [0], bump: 2 },
      { type: 'random_target', start: 2, length: 4, dLoss: [5], dRho: [0], bump: null },
    ],
    [1],
  );

  it('reads the trend with the start and with the length at a fixed start', () => {
    const text = typeOf(f, 'random_target').sentences.join(' ');
    expect(text).toContain('after one epoch: 2 epochs at E = 2, 4 epochs at E = 4, 6 epochs at E = 6; later starts take longer to recover (Spearman ρ = 1.00 over 3 starts).');
    // At E = 2: L = 1 -> 2, L = 2 -> 3, L = 4 -> NR (slowest): rising with the length.
    expect(text).toContain('Windows of 2, 4 epochs: at a fixed start, recovery took longer the longer the window (Spearman ρ > 0) at 1 of 1 start epochs (E = 2: L = 1: 2 epochs, L = 2: 3 epochs, L = 4: NR); 1 of 2 windows never recovered (E = 2, L = 4).');
  });
});

describe('epochList', () => {
  it('writes runs of consecutive epochs as ranges', () => {
    expect(epochList([5, 1, 2, 3, 7, 8, 10])).toBe('1–3, 5, 7, 8, 10');
    expect(epochList([4])).toBe('4');
  });
});
