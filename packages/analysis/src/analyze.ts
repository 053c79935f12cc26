import { z } from 'zod';
import { computeEffect, type Baseline, type Effect } from './effects.js';
import { layerEffectsOf, type LayerEffect } from './layer-effects.js';
import { baselineFor } from './pairing.js';
import { alignmentRecovery, lossRecovery, type Recovery } from './recovery.js';
import { collect, type Problem, type Run } from './runs.js';
import { benjaminiHochberg, pairedTTest } from './significance.js';
import { groupBy, meanCI } from './summary.js';

/** Analysis settings shared by the stage and the CLI. */
export const AnalysisParams = z.object({
  /** Loss recovery: run test loss <= threshold × baseline test loss (method §6, Fig 4). */
  recoveryThreshold: z.number().positive().default(1.01),
  /** Alignment recovery: |ρ_run − ρ_base| <= this. */
  alignmentTolerance: z.number().positive().default(0.01),
  /** Start epochs shown in Fig 2 (the study's); those absent from the data are skipped. */
  fig2Epochs: z.array(z.number().int().min(1)).default([5, 15, 25, 35, 45, 70, 98]),
  /** Confidence level of multi-seed intervals. */
  ciLevel: z.number().gt(0).lt(1).default(0.95),
  /** An effect is beyond seed noise when its Benjamini-Hochberg q-value is below this (false discovery rate). */
  fdr: z.number().gt(0).lt(1).default(0.05),
});
export type AnalysisParams = z.output<typeof AnalysisParams>;

/** One model arm: its baselines (one per seed) and its perturbation runs. */
export interface Arm {
  model: string;
  /** One per training seed; each run is compared with the one of its seed (pairing.ts). */
  baselines: Baseline[];
  runs: Run[];
  /**
   * Whether runs train on after the perturbation (CLIP-HBA, to early stopping) so that recovery
   * means something; false for one-epoch measurements (the ViT arm, method §7.3).
   */
  runsContinue: boolean;
}

export interface Study {
  arms: Arm[];
  problems: Problem[];
}

export interface SummaryRow {
  model: string;
  type: string;
  start: number;
  length: number;
  measure: string;
  n: number;
  mean: number;
  ci_low: number | null;
  ci_high: number | null;
  /** For recovery measures: runs that never recovered (not in the mean). */
  n_nr: number | null;
  /**
   * For the effects at the perturbed epoch with >= 2 seeds: the two-sided p of the paired t-test
   * (run vs its own seed's baseline), its Benjamini-Hochberg q over the conditions tested for this
   * measure, and whether q < the FDR level. Null where there is no test.
   */
  p: number | null;
  q: number | null;
  significant: boolean | null;
}

/** The measures tested against seed noise: the effects at the perturbed epoch (Figs 2, 3). */
export const TESTED_MEASURES = ['delta_test_loss', 'delta_rsa'] as const;

export interface Results {
  effects: Effect[];
  recovery: Recovery[];
  alignment: Recovery[];
  summary: SummaryRow[];
  /** Per-layer Δρ of runs whose folder and baseline's have layer_rsa (layer-effects.ts); empty otherwise. */
  layerEffects: LayerEffect[];
  problems: Problem[];
}

/** Effects, recoveries and multi-seed summaries of every readable run; failures become problems. */
export function analyzeStudy(study: Study, params: AnalysisParams): Results {
  const problems = [...study.problems];
  const effects: Effect[] = [];
  const recovery: Recovery[] = [];
  const alignment: Recovery[] = [];
  const layerEffects: LayerEffect[] = [];
  for (const arm of study.arms) {
    for (const run of arm.runs) {
      const paired = collect(problems, run.name, () => {
        const baseline = baselineFor(arm.baselines, run);
        return { baseline, effect: computeEffect(run, baseline) };
      });
      if (!paired) continue;
      effects.push(paired.effect);
      layerEffects.push(...layerEffectsOf(arm.model, run, paired.baseline));
      // A run that stopped inside its window never recovered (NR); a one-epoch measurement never tried.
      if (arm.runsContinue) {
        recovery.push(lossRecovery(run, paired.baseline, params.recoveryThreshold));
        alignment.push(alignmentRecovery(run, paired.baseline, params.alignmentTolerance));
      }
    }
  }
  const order = <T extends { model: string; type: string; start: number; length: number }>(a: T, b: T) =>
    a.model.localeCompare(b.model) || a.type.localeCompare(b.type) || a.start - b.start || a.length - b.length;
  effects.sort(order);
  recovery.sort(order);
  alignment.sort(order);
  layerEffects.sort((a, b) => order(a, b) || (a.seed ?? 0) - (b.seed ?? 0) || a.layer - b.layer);
  return { effects, recovery, alignment, summary: summarize(effects, recovery, alignment, params), layerEffects, problems };
}

const conditionOf = (r: { model: string; type: string; start: number; length: number }) => ({
  model: r.model,
  type: r.type,
  start: r.start,
  length: r.length,
});

/**
 * Means over seeds (or any repeats of one condition) with t-distribution CIs; for the tested
 * measures also the paired test and its BH q-value, one family per measure over every tested
 * condition of every model.
 */
function summarize(effects: Effect[], recovery: Recovery[], alignment: Recovery[], params: AnalysisParams): SummaryRow[] {
  const level = params.ciLevel;
  const rows: SummaryRow[] = [];
  const untested = { p: null, q: null, significant: null };
  const measures = ['delta_test_loss', 'delta_rsa', 'min_loss_deviation', 'max_alignment_deviation'] as const;
  for (const group of groupBy(effects, conditionOf)) {
    for (const measure of measures) {
      const values = group.items.map((e) => e[measure]);
      const tested = (TESTED_MEASURES as readonly string[]).includes(measure) ? pairedTTest(values) : null;
      rows.push({ ...group.key, measure, ...meanCI(values, level), n_nr: null, ...untested, p: tested?.p ?? null });
    }
  }
  for (const measure of TESTED_MEASURES) {
    const family = rows.filter((r) => r.measure === measure && r.p !== null);
    const qs = benjaminiHochberg(family.map((r) => r.p!));
    family.forEach((r, i) => {
      r.q = qs[i]!;
      r.significant = qs[i]! < params.fdr;
    });
  }
  for (const [measure, list] of [['recovery_epochs', recovery], ['alignment_recovery_epochs', alignment]] as const) {
    for (const group of groupBy(list, conditionOf)) {
      const recovered = group.items.flatMap((r) => (r.recovery_epochs === null ? [] : [r.recovery_epochs]));
      rows.push({ ...group.key, measure, ...meanCI(recovered, level), n_nr: group.items.length - recovered.length, ...untested });
    }
  }
  return rows;
}
