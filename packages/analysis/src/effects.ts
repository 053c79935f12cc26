import { UserError } from '@lw/core';
import { rowAt, type EpochRow, type MetricsTable } from './metrics.js';
import type { CkaSeries } from './cka-runs.js';
import type { EpochMeasures } from './epoch-measures.js';
import type { Condition, Run } from './runs.js';

/** The baseline as every analysis sees it (method §6): cut at its minimum test loss. */
export interface Baseline {
  model: string;
  /** The training seed (params.seed, or the study's `seed{S}` file name); null when unknown. */
  seed: number | null;
  /** Every row, for per-epoch lookups at a perturbed epoch. */
  full: MetricsTable;
  /** Rows up to and including the min-test-loss epoch (`idxmin`, first minimum on ties). */
  truncated: EpochRow[];
  best: EpochRow;
  maxRsa: number;
  /** Layer-wise RSA and Fisher trace of every epoch, where the run folder has them (epoch-measures.ts). */
  measures?: EpochMeasures;
  /** CKA with the human embedding by epoch, one series per eval/cka task that scored this baseline (cka-runs.ts). */
  cka?: CkaSeries[];
}

export function truncateBaseline(table: MetricsTable, model = 'CLIP-HBA', seed: number | null = null): Baseline {
  let bestIndex = 0;
  table.rows.forEach((r, i) => {
    if (r.test_loss < table.rows[bestIndex]!.test_loss) bestIndex = i;
  });
  const truncated = table.rows.slice(0, bestIndex + 1);
  return { model, seed, full: table, truncated, best: truncated[bestIndex]!, maxRsa: Math.max(...truncated.map((r) => r.rsa)) };
}

/** One run's effects: at the perturbed epoch (Fig 2/3), at the run's end and at its best epoch (follow-up). */
export interface Effect extends Condition {
  run: string;
  /** run − baseline at the perturbed epoch E. */
  delta_test_loss: number;
  delta_rsa: number;
  /** Last row of the run − the truncated baseline's last row (its min-loss epoch). */
  end_epoch: number;
  delta_test_loss_end: number;
  delta_rsa_end: number;
  /** The run's min-test-loss row − the baseline's min-test-loss row. */
  best_epoch: number;
  delta_rsa_best: number;
  /** min test loss of the run − min test loss of the truncated baseline. */
  min_loss_deviation: number;
  /** max ρ of the run − max ρ of the truncated baseline. */
  max_alignment_deviation: number;
}

function minLossRow(rows: EpochRow[]): EpochRow {
  return rows.reduce((best, r) => (r.test_loss < best.test_loss ? r : best));
}

/** The run's effects against `baseline`, which must be the baseline of the run's own seed (pairing.ts). */
export function computeEffect(run: Run, baseline: Baseline): Effect {
  const E = run.condition.start;
  const hit = rowAt(run.table, E);
  if (!hit) throw new UserError(`${run.table.file}: no row for the perturbed epoch ${E}`, 'the run table must include its perturbed epoch');
  const base = rowAt(baseline.full, E);
  if (!base) {
    throw new UserError(
      `${baseline.full.file}: the baseline has no epoch ${E}, needed by ${run.name}`,
      `the baseline covers epochs ${baseline.full.rows[0]!.epoch}..${baseline.full.rows.at(-1)!.epoch}`,
    );
  }
  const last = run.table.rows.at(-1)!;
  const baseEnd = baseline.truncated.at(-1)!;
  const best = minLossRow(run.table.rows);
  return {
    ...run.condition,
    // A study run carries no seed of its own: it is its baseline's.
    seed: run.condition.seed ?? baseline.seed,
    run: run.name,
    delta_test_loss: hit.test_loss - base.test_loss,
    delta_rsa: hit.rsa - base.rsa,
    end_epoch: last.epoch,
    delta_test_loss_end: last.test_loss - baseEnd.test_loss,
    delta_rsa_end: last.rsa - baseEnd.rsa,
    best_epoch: best.epoch,
    delta_rsa_best: best.rsa - baseline.best.rsa,
    min_loss_deviation: best.test_loss - baseline.best.test_loss,
    max_alignment_deviation: Math.max(...run.table.rows.map((r) => r.rsa)) - baseline.maxRsa,
  };
}
