import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedDir } from '@lw/core';
import { analyzeCommand } from './commands.js';

/**
 * Expected values computed once by hand (python3, csv module, reading the CSVs directly) from
 * /work/shared/data/reference-results. Baseline: min test loss 29.101308833169675 at epoch 98.
 * Δ = run − baseline at the perturbed epoch E. Recovery: P = E + L − 1, first t > P with run
 * test_loss <= 1.01 × baseline test_loss(t) (t <= 98) or <= 1.01 × 29.101308833169675 = 29.39232192150137.
 * Alignment: first t > P with |ρ_run − ρ_base(t)| <= 0.01 (past 98: ρ_base(98) = 0.7555874116660208).
 */
const EXPECTED = [
  {
    // run5: 87.8071394862391 − 76.44711839033096; 0.5628894196653441 − 0.44051140595833277.
    // recovered at t=8: 68.7469102216689 <= 1.01 × 68.58605876943683 = 69.2719193571312 -> 8 − 5 = 3.
    // alignment at t=8: |0.5924266971709323 − 0.5930739610706773| <= 0.01 -> 3.
    run: 'single_sweep/training_res_run5.csv', type: 'random_target', start: 5, length: 1,
    dLoss: 11.360021095908138, dRsa: 0.12237801370701135, recovery: 3, alignment: 3,
  },
  {
    // run30: 94.02927090976779 − 35.18348776042791; 0.5591740128439125 − 0.7668475209788644.
    // t=36: 33.658177012238056 <= 1.01 × 33.36787770729697 = 33.70155648436994 -> 6; alignment t=34 -> 4.
    run: 'single_sweep/training_res_run30.csv', type: 'random_target', start: 30, length: 1,
    dLoss: 58.84578314933988, dRsa: -0.2076735081349519, recovery: 6, alignment: 4,
  },
  {
    // label_shuffle run15 (9 columns): 81.55289640479324 − 47.02427055822552; 0.5820975350296338 − 0.7205795063339578.
    // t=20: 41.39715896522143 <= 1.01 × 41.17504522418449 = 41.586795676426334 -> 5; alignment t=17 -> 2.
    run: 'types/label_shuffle/training_res_run15.csv', type: 'label_shuffle', start: 15, length: 1,
    dLoss: 34.52862584656773, dRsa: -0.13848197130432405, recovery: 5, alignment: 2,
  },
  {
    // uniform_target (= blank image) run15: 68.44837420553134 − 47.02427055822552; 0.6839027361964061 − 0.7205795063339578.
    // Recovers only past the baseline's epoch 98: t=103, 29.38904211139152 <= 29.39232192150137 -> 88; alignment t=36 -> 21.
    run: 'types/uniform_target/training_res_run15.csv', type: 'blank_image', start: 15, length: 1,
    dLoss: 21.42410364730582, dRsa: -0.03667677013755177, recovery: 88, alignment: 21,
  },
  {
    // image_noise run15: 65.21668428874148 − 47.02427055822552; 0.6950897539764516 − 0.7205795063339578.
    // t=85: 29.483651598514115 <= 1.01 × 29.21607901641677 = 29.50823980658094 -> 70; alignment t=19 -> 4.
    run: 'types/image_noise/training_res_run15.csv', type: 'image_noise', start: 15, length: 1,
    dLoss: 18.19241373051596, dRsa: -0.02548975235750628, recovery: 70, alignment: 4,
  },
  {
    // e1_l2: 119.60452595073215 − 114.26733727218038; 0.4363180990708469 − 0.4554429183477993.
    // P = 2; t=43: 32.27874283764244 <= 1.01 × 31.963277616553544 = 32.28291039271908 -> 41; alignment t=4 -> 2.
    run: 'lengths/random_target_e1_l2', type: 'random_target', start: 1, length: 2,
    dLoss: 5.337188678551769, dRsa: -0.01912481927695242, recovery: 41, alignment: 2,
  },
  {
    // e2_l5 (named metrics.csv): 94.17930577736533 − 91.31042998930367; 0.4425357454387753 − 0.42245921872078135.
    // P = 6; t=27: 36.77038373999833 <= 1.01 × 36.48454805237154 = 36.84939353289525 -> 21; alignment t=18 -> 12.
    run: 'lengths/random_target_e2_l5', type: 'random_target', start: 2, length: 5,
    dLoss: 2.8688757880616578, dRsa: 0.020076526717993926, recovery: 21, alignment: 12,
  },
  {
    // e40_l10: 94.32486181101088 − 32.447666062834514; 0.5126304376021216 − 0.7724858906123357.
    // P = 49; t=67: 29.987851601279242 <= 1.01 × 29.72415852414969 = 30.021400109391188 -> 18; alignment t=54 -> 5.
    run: 'lengths/random_target_e40_l10', type: 'random_target', start: 40, length: 10,
    dLoss: 61.87719574817636, dRsa: -0.2598554530102142, recovery: 18, alignment: 5,
  },
];

function parseCsv(text: string): Array<Record<string, string>> {
  const [head, ...lines] = text.trim().split('\n');
  const names = head!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [names[i]!, v])));
}

describe('the study published CSVs (reference-results)', async () => {
  const R = join(sharedDir(), 'data', 'reference-results');
  const out = mkdtempSync(join(tmpdir(), 'lw-analysis-ref-'));
  const summary = await analyzeCommand({
    baseline: join(R, 'baseline_clip_results_seed1.csv'),
    sweep: [join(R, 'single_sweep')],
    lengths: [join(R, 'lengths')],
    types: [join(R, 'types')],
    out,
  });
  const effects = parseCsv(readFileSync(join(out, 'effects.csv'), 'utf8'));
  const recovery = parseCsv(readFileSync(join(out, 'recovery.csv'), 'utf8'));
  const alignment = parseCsv(readFileSync(join(out, 'alignment_recovery.csv'), 'utf8'));

  it('reads every run there without problems', () => {
    expect(summary.problems).toBe(0);
    expect(effects.map((e) => e.run).sort()).toEqual(EXPECTED.map((e) => e.run).sort());
    expect(readFileSync(join(out, 'effects.csv'), 'utf8').split('\n')[0]!.startsWith('type,start,length,delta_test_loss,delta_rsa')).toBe(true);
    expect(readFileSync(join(out, 'recovery.csv'), 'utf8').split('\n')[0]!.startsWith('start,length,recovery_epochs')).toBe(true);
  });

  for (const want of EXPECTED) {
    it(`${want.run}: effects at the perturbed epoch and recovery`, () => {
      const effect = effects.find((e) => e.run === want.run)!;
      expect([effect.type, Number(effect.start), Number(effect.length)]).toEqual([want.type, want.start, want.length]);
      expect(Number(effect.delta_test_loss)).toBeCloseTo(want.dLoss, 10);
      expect(Number(effect.delta_rsa)).toBeCloseTo(want.dRsa, 12);
      expect(recovery.find((r) => r.run === want.run)!.recovery_epochs).toBe(String(want.recovery));
      expect(alignment.find((r) => r.run === want.run)!.recovery_epochs).toBe(String(want.alignment));
    });
  }

  it('writes findings that read correctly for the published study (one seed: signs, no tests)', () => {
    const md = readFileSync(join(out, 'findings.md'), 'utf8');
    // The published data are one seed: the findings must say that tests need more and claim no significance.
    expect(md).toContain('Every condition has one run (a single seed), so there are no intervals and no tests');
    expect(md).not.toMatch(/beyond seed noise at|q = /);
    expect(md).toContain('## CLIP-HBA (1 baseline, seed 1)');
    const line = (label: string) => md.split('\n').find((l) => l.startsWith(`- **${label}.**`))!;
    // ΔRSA at E as in EXPECTED: +0.12237801370701135 at 5, −0.2076735081349519 at 30; recovery 3 and 6; windows 41, 21, 18.
    expect(line('random targets')).toContain('ΔRSA at the perturbed epoch (one run each, no test): higher at E = 5 (+0.122); lower at E = 30 (−0.208).');
    expect(line('random targets')).toContain('after one epoch: 3 epochs at E = 5, 6 epochs at E = 30; the later start takes longer to recover.');
    expect(line('random targets')).toContain('loss recovery took 41 epochs (E = 1, L = 2), 21 epochs (E = 2, L = 5), 18 epochs (E = 40, L = 10). Each start epoch has one length');
    // Loss up but ρ up too at E = 5 (+11.36, +0.122) and in e2_l5 (+2.87, +0.020): the study's early-epoch rise.
    expect(line('random targets')).toContain('Loss and alignment part ways (loss up with alignment up too) at E = 2, L = 5 (ΔLoss +2.87 MSE, ΔRSA +0.020), E = 5 (ΔLoss +11.4 MSE, ΔRSA +0.122); elsewhere (3 of 5) they move oppositely.');
    expect(line('label shuffle')).toContain('lower at E = 15 (−0.138)');
    expect(line('label shuffle')).toContain('5 epochs at E = 15');
    expect(line('image noise')).toContain('lower at E = 15 (−0.025)');
    expect(line('image noise')).toContain('70 epochs at E = 15');
    expect(line('blank image')).toContain('lower at E = 15 (−0.037)');
    expect(line('blank image')).toContain('88 epochs at E = 15');
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<section id="findings"><h2>Findings</h2>');
  });

  it('deviations from the truncated baseline (max ρ 0.7790326662628768, min loss 29.101308833169675)', () => {
    const e5 = effects.find((e) => e.run === 'single_sweep/training_res_run5.csv')!;
    // max ρ of run5 − 0.7790326662628768; min loss of run5 − 29.101308833169675 (python, same CSVs).
    expect(Number(e5.max_alignment_deviation)).toBeCloseTo(-0.0038049067428270744, 12);
    expect(Number(e5.min_loss_deviation)).toBeCloseTo(0.11313835692010343, 10);
    const e12 = effects.find((e) => e.run === 'lengths/random_target_e1_l2')!;
    expect(Number(e12.max_alignment_deviation)).toBeCloseTo(0.005937069193638456, 12);
    expect(Number(e12.min_loss_deviation)).toBeCloseTo(0.03198629979928924, 10);
  });
});
