import type { Baseline } from './effects.js';
import type { Condition, Run } from './runs.js';

/** Epochs from the end of the perturbation to recovery; null = never recovered (NR). */
export interface Recovery extends Condition {
  run: string;
  /** P = start + length − 1, the last perturbed epoch. */
  perturb_end: number;
  recovery_epoch: number | null;
  recovery_epochs: number | null;
}

/**
 * Loss recovery exactly as the study's Fig 4 (method §6): the first epoch t > P of the untruncated
 * run whose test loss is <= threshold × baseline test loss at t, or, past the truncated baseline's
 * last epoch, <= threshold × the baseline minimum.
 */
export function lossRecovery(run: Run, baseline: Baseline, threshold = 1.01): Recovery {
  const P = run.condition.start + run.condition.length - 1;
  const baseByEpoch = new Map(baseline.truncated.map((r) => [r.epoch, r.test_loss]));
  const lastBaseEpoch = baseline.truncated.at(-1)!.epoch;
  const recovered = run.table.rows.find((r) => {
    if (r.epoch <= P) return false;
    const reference = r.epoch <= lastBaseEpoch ? baseByEpoch.get(r.epoch) : baseline.best.test_loss;
    // A baseline with a gap at t gives no comparison for t; the scan moves on.
    return reference !== undefined && r.test_loss <= threshold * reference;
  });
  return result(run, baseline, P, recovered?.epoch ?? null);
}

/**
 * Alignment recovery, which the study announced but never computed: the first epoch t > P with
 * |ρ_run(t) − ρ_base(t)| <= tolerance; past the truncated baseline, against ρ at its min-loss epoch.
 */
export function alignmentRecovery(run: Run, baseline: Baseline, tolerance = 0.01): Recovery {
  const P = run.condition.start + run.condition.length - 1;
  const baseByEpoch = new Map(baseline.truncated.map((r) => [r.epoch, r.rsa]));
  const lastBaseEpoch = baseline.truncated.at(-1)!.epoch;
  const recovered = run.table.rows.find((r) => {
    if (r.epoch <= P) return false;
    const reference = r.epoch <= lastBaseEpoch ? baseByEpoch.get(r.epoch) : baseline.best.rsa;
    return reference !== undefined && Math.abs(r.rsa - reference) <= tolerance;
  });
  return result(run, baseline, P, recovered?.epoch ?? null);
}

function result(run: Run, baseline: Baseline, P: number, epoch: number | null): Recovery {
  return { ...run.condition, seed: run.condition.seed ?? baseline.seed, run: run.name, perturb_end: P, recovery_epoch: epoch, recovery_epochs: epoch === null ? null : epoch - P };
}
