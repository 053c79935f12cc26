import { describe, expect, it } from 'vitest';
import { computeEffect, truncateBaseline } from './effects.js';
import type { EpochRow } from './metrics.js';
import { alignmentRecovery, lossRecovery } from './recovery.js';
import { Condition, type Run } from './runs.js';

const row = (epoch: number, test_loss: number, rsa: number): EpochRow => ({ epoch, train_loss: 0, test_loss, rsa, rsa_p: null, perturbed: null });

// Baseline: minimum 10 at epoch 4, then it rises (early stopping would keep training past it).
const baseline = truncateBaseline({
  file: 'base.csv',
  rows: [row(1, 40, 0.3), row(2, 20, 0.5), row(3, 12, 0.6), row(4, 10, 0.7), row(5, 11, 0.65), row(6, 9.99, 0.2)].slice(0, 5),
});

function run(start: number, length: number, rows: EpochRow[]): Run {
  return { name: `e${start}_l${length}`, condition: Condition.parse({ type: 'random_target', start, length }), table: { file: 'run.csv', rows } };
}

describe('truncateBaseline', () => {
  it('cuts at the first minimum of the test loss', () => {
    expect(baseline.truncated.map((r) => r.epoch)).toEqual([1, 2, 3, 4]);
    expect(baseline.best.epoch).toBe(4);
    expect(baseline.maxRsa).toBe(0.7);
    const tie = truncateBaseline({ file: 'b', rows: [row(1, 5, 0), row(2, 3, 0), row(3, 3, 0)] });
    expect(tie.best.epoch).toBe(2);
  });
});

describe('lossRecovery', () => {
  it('compares with the baseline at the same epoch, inclusive at 1.01×', () => {
    // P = 2; t = 3 needs <= 12.12 (12 × 1.01): 12.12 recovers, exactly at the threshold.
    const r = lossRecovery(run(2, 1, [row(2, 50, 0.1), row(3, 12.12, 0.2)]), baseline);
    expect([r.perturb_end, r.recovery_epoch, r.recovery_epochs]).toEqual([2, 3, 1]);
    const miss = lossRecovery(run(2, 1, [row(2, 50, 0.1), row(3, 12.13, 0.2)]), baseline);
    expect(miss.recovery_epochs).toBeNull();
  });

  it('ignores epochs inside the perturbation window', () => {
    // Length 2 from epoch 2: P = 3; epoch 3 is below its threshold but still perturbed.
    const r = lossRecovery(run(2, 2, [row(2, 50, 0), row(3, 1, 0), row(4, 10.05, 0)]), baseline);
    expect([r.recovery_epoch, r.recovery_epochs]).toEqual([4, 1]);
  });

  it('past the truncated baseline, compares with 1.01 × its minimum (10.1)', () => {
    const r = lossRecovery(run(1, 1, [row(1, 50, 0), row(2, 30, 0), row(3, 20, 0), row(4, 15, 0), row(5, 10.11, 0), row(6, 10.1, 0)]), baseline);
    // Epoch 5 (10.11 > 10.1) does not count even though the untruncated baseline has 11 there.
    expect([r.recovery_epoch, r.recovery_epochs]).toEqual([6, 5]);
  });

  it('uses the threshold parameter', () => {
    const r = lossRecovery(run(2, 1, [row(2, 50, 0), row(3, 13, 0)]), baseline, 1.1);
    expect(r.recovery_epochs).toBe(1);
  });
});

describe('alignmentRecovery', () => {
  it('is the first epoch after P with ρ within the tolerance of the baseline', () => {
    const r = alignmentRecovery(run(1, 1, [row(1, 50, 0.1), row(2, 30, 0.45), row(3, 20, 0.595), row(4, 15, 0.5)]), baseline);
    // |0.45 − 0.5| = 0.05 > 0.01; |0.595 − 0.6| = 0.005 <= 0.01 -> t = 3.
    expect([r.recovery_epoch, r.recovery_epochs]).toEqual([3, 2]);
    const loose = alignmentRecovery(run(1, 1, [row(1, 50, 0.1), row(2, 30, 0.45), row(3, 20, 0.595)]), baseline, 0.05 + 1e-12);
    expect(loose.recovery_epoch).toBe(2);
  });

  it('past the baseline, compares with ρ at its min-loss epoch (0.7)', () => {
    const r = alignmentRecovery(run(3, 2, [row(3, 50, 0.1), row(4, 30, 0.2), row(5, 20, 0.65), row(6, 20, 0.695)]), baseline);
    expect([r.recovery_epoch, r.recovery_epochs]).toEqual([6, 2]);
  });
});

describe('computeEffect', () => {
  it('takes the deltas at the perturbed epoch, the end and the best epoch', () => {
    const e = computeEffect(run(2, 1, [row(2, 25, 0.55), row(3, 11, 0.75), row(4, 10.5, 0.72)]), baseline);
    expect(e.delta_test_loss).toBe(25 - 20);
    expect(e.delta_rsa).toBeCloseTo(0.55 - 0.5, 15);
    // End: epoch 4 against the truncated baseline's end (epoch 4: 10, 0.7).
    expect([e.end_epoch, e.delta_test_loss_end]).toEqual([4, 0.5]);
    expect(e.delta_rsa_end).toBeCloseTo(0.02, 15);
    // Best: the run's min loss 10.5 at epoch 4 against the baseline's 10 at epoch 4.
    expect([e.best_epoch, e.min_loss_deviation]).toEqual([4, 0.5]);
    expect(e.max_alignment_deviation).toBeCloseTo(0.75 - 0.7, 15);
  });

  it('names the file when the perturbed epoch is missing', () => {
    expect(() => computeEffect(run(2, 1, [row(1, 25, 0.55), row(3, 11, 0.75)]), baseline)).toThrow(/run\.csv: no row for the perturbed epoch 2/);
  });
});
