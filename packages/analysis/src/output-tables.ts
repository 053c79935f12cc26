import type { AnalysisParams, Results, SummaryRow } from './analyze.js';
import type { Effect } from './effects.js';
import type { LayerEffect } from './layer-effects.js';
import { typeLabel } from './labels.js';
import type { Recovery } from './recovery.js';
import type { Problem } from './runs.js';
import { materialize, type Column, type MaterializedTable, type OutputTable } from './tables.js';

const condition = <R extends Effect | Recovery>(): Column<R>[] => [
  { name: 'model', type: 'utf8', value: (r) => r.model },
  { name: 'seed', type: 'int', value: (r) => r.seed },
  { name: 'perturb_seed', type: 'int', value: (r) => r.perturbSeed },
  { name: 'run', type: 'utf8', value: (r) => r.run },
  { name: 'perturbation', type: 'utf8', value: (r) => typeLabel(r.type) },
];

function effectsTable(rows: Effect[]): OutputTable<Effect> {
  return {
    name: 'effects',
    title: 'Effects at the perturbed epoch, at the end and at the best epoch',
    rows,
    columns: [
      { name: 'type', type: 'utf8', value: (r) => r.type },
      { name: 'start', type: 'int', value: (r) => r.start },
      { name: 'length', type: 'int', value: (r) => r.length },
      { name: 'delta_test_loss', type: 'float', value: (r) => r.delta_test_loss },
      { name: 'delta_rsa', type: 'float', value: (r) => r.delta_rsa },
      ...condition<Effect>(),
      { name: 'end_epoch', type: 'int', value: (r) => r.end_epoch },
      { name: 'delta_test_loss_end', type: 'float', value: (r) => r.delta_test_loss_end },
      { name: 'delta_rsa_end', type: 'float', value: (r) => r.delta_rsa_end },
      { name: 'best_epoch', type: 'int', value: (r) => r.best_epoch },
      { name: 'delta_rsa_best', type: 'float', value: (r) => r.delta_rsa_best },
      { name: 'min_loss_deviation', type: 'float', value: (r) => r.min_loss_deviation },
      { name: 'max_alignment_deviation', type: 'float', value: (r) => r.max_alignment_deviation },
    ],
  };
}

function recoveryTable(name: string, title: string, rows: Recovery[]): OutputTable<Recovery> {
  return {
    name,
    title,
    rows,
    columns: [
      { name: 'start', type: 'int', value: (r) => r.start },
      { name: 'length', type: 'int', value: (r) => r.length },
      { name: 'recovery_epochs', type: 'int', value: (r) => r.recovery_epochs, nullText: 'NR' },
      { name: 'type', type: 'utf8', value: (r) => r.type },
      { name: 'perturb_end', type: 'int', value: (r) => r.perturb_end },
      { name: 'recovery_epoch', type: 'int', value: (r) => r.recovery_epoch, nullText: 'NR' },
      ...condition<Recovery>(),
    ],
  };
}

function summaryTable(rows: SummaryRow[], params: Pick<AnalysisParams, 'ciLevel' | 'fdr'>): OutputTable<SummaryRow> {
  return {
    name: 'summary',
    title:
      `Means over seeds with ${Math.round(params.ciLevel * 100)}% t-intervals (recovery: over runs that recovered); ` +
      `for ΔLoss and ΔRSA at the perturbed epoch, p of the t-test paired by seed (run vs its own seed's baseline), ` +
      `q = Benjamini-Hochberg-adjusted p over the conditions tested for that measure, significant = q < ${params.fdr}`,
    rows,
    columns: [
      { name: 'model', type: 'utf8', value: (r) => r.model },
      { name: 'type', type: 'utf8', value: (r) => r.type },
      { name: 'perturbation', type: 'utf8', value: (r) => typeLabel(r.type) },
      { name: 'start', type: 'int', value: (r) => r.start },
      { name: 'length', type: 'int', value: (r) => r.length },
      { name: 'measure', type: 'utf8', value: (r) => r.measure },
      { name: 'n', type: 'int', value: (r) => r.n },
      { name: 'mean', type: 'float', value: (r) => r.mean },
      { name: 'ci_low', type: 'float', value: (r) => r.ci_low },
      { name: 'ci_high', type: 'float', value: (r) => r.ci_high },
      { name: 'n_nr', type: 'int', value: (r) => r.n_nr },
      { name: 'p', type: 'float', value: (r) => r.p },
      { name: 'q', type: 'float', value: (r) => r.q },
      { name: 'significant', type: 'utf8', value: (r) => (r.significant === null ? null : r.significant ? 'yes' : 'no') },
    ],
  };
}

function layerEffectsTable(rows: LayerEffect[]): OutputTable<LayerEffect> {
  return {
    name: 'layer_effects',
    title: "Per-layer Δρ: the run's layer-wise ρ minus its seed's baseline's at the same epoch and layer (Fig 7)",
    rows,
    columns: [
      { name: 'model', type: 'utf8', value: (r) => r.model },
      { name: 'run', type: 'utf8', value: (r) => r.run },
      { name: 'seed', type: 'int', value: (r) => r.seed },
      { name: 'type', type: 'utf8', value: (r) => r.type },
      { name: 'start', type: 'int', value: (r) => r.start },
      { name: 'length', type: 'int', value: (r) => r.length },
      { name: 'layer', type: 'int', value: (r) => r.layer },
      { name: 'layer_name', type: 'utf8', value: (r) => r.layer_name },
      { name: 'epoch', type: 'int', value: (r) => r.epoch },
      { name: 'delta_rsa', type: 'float', value: (r) => r.delta_rsa },
      { name: 'end_epoch', type: 'int', value: (r) => r.end_epoch },
      { name: 'delta_rsa_end', type: 'float', value: (r) => r.delta_rsa_end },
    ],
  };
}

function problemsTable(rows: Problem[]): OutputTable<Problem> {
  return {
    name: 'problems',
    title: 'Files and runs that could not be analysed',
    rows,
    columns: [
      { name: 'source', type: 'utf8', value: (r) => r.source },
      { name: 'message', type: 'utf8', value: (r) => r.message },
    ],
  };
}

/** Every table the analysis writes, in report order. */
export function outputTables(results: Results, params: Pick<AnalysisParams, 'ciLevel' | 'fdr'>): MaterializedTable[] {
  return [
    materialize(effectsTable(results.effects)),
    materialize(recoveryTable('recovery', 'Loss recovery (method §6, Fig 4)', results.recovery)),
    materialize(recoveryTable('alignment_recovery', 'Alignment recovery (ρ back within the tolerance of the baseline)', results.alignment)),
    materialize(summaryTable(results.summary, params)),
    // Only where runs have layer_rsa: analyses without it write the same files as before.
    ...(results.layerEffects.length ? [materialize(layerEffectsTable(results.layerEffects))] : []),
    materialize(problemsTable(results.problems)),
  ];
}
