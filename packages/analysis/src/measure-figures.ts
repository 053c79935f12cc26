import type { TopLevelSpec } from 'vega-lite';
import { perturbationKinds, type PerturbationKind } from '@lw/core';
import type { Arm, Results } from './analyze.js';
import type { Baseline } from './effects.js';
import type { Figure } from './figures.js';
import type { LayerEffect } from './layer-effects.js';
import { typeLabel } from './labels.js';
import { groupBy } from './summary.js';

/**
 * Figures of the per-epoch measures (layer_rsa, epoch_measures), each only where runs have them:
 * the baselines' epoch × layer RSA, each perturbation's per-layer Δρ against its seed's baseline,
 * and the baselines' Fisher trace beside their ρ and loss.
 */

const seedName = (b: Baseline, i: number) => (b.seed === null ? `baseline ${i + 1}` : `seed ${b.seed}`);

/** Layers bottom-up on the y axis, the output on top; `sort` keeps the tower's order. */
function layerAxis(rows: Array<{ layer: number; layer_name: string }>) {
  const names = [...new Map(rows.map((r) => [r.layer_name, r.layer])).entries()].sort((a, b) => b[1] - a[1]).map(([n]) => n);
  return { names, encoding: { field: 'layer_name', type: 'ordinal', title: 'Layer', sort: names, axis: { grid: false } } };
}

/** Epoch × layer ρ of every baseline with layer_rsa, one panel per seed (and arm). */
export function layerRsaBaselineFigure(arms: Arm[]): Figure | null {
  const panels = arms.flatMap((arm) => arm.baselines.flatMap((b, i) => {
    const rows = b.measures?.layers;
    if (!rows?.length) return [];
    const epochs = new Set(rows.map((r) => r.epoch)).size;
    const y = layerAxis(rows).encoding;
    const x = { field: 'epoch', type: 'ordinal', title: 'Epoch', axis: { labelAngle: 0, grid: false, labelExpr: epochs > 15 ? 'datum.value % 5 === 0 || datum.value === 1 ? datum.label : ""' : 'datum.label' } };
    return [{
      title: `${arm.model} baseline, ${seedName(b, i)}`,
      width: { step: Math.max(8, Math.min(24, Math.round(480 / epochs))) },
      height: { step: 22 },
      data: { values: rows.map((r) => ({ epoch: r.epoch, layer_name: r.layer_name, rho: r.rsa_rho })) },
      mark: 'rect',
      encoding: {
        x, y,
        color: { field: 'rho', type: 'quantitative', title: 'ρ', scale: { scheme: 'viridis' } },
        tooltip: [{ field: 'epoch' }, { field: 'layer_name', title: 'layer' }, { field: 'rho', format: '.4f', title: 'ρ' }],
      },
    }];
  }));
  if (!panels.length) return null;
  return {
    id: 'fig6_layer_rsa',
    title: 'Fig 6. Layer-wise RSA along the baselines',
    caption:
      'RSA (Spearman ρ of the 1 − Pearson RDM with the human RDM) of each image-tower block\'s CLS token on the RSA images, every epoch, and of the model\'s output (the ρ of Fig 1). ' +
      'Blocks before the first trained block are frozen, so their rows do not change (layer_rsa.csv of each baseline).',
    spec: { vconcat: panels, resolve: { scale: { color: 'shared' } } } as TopLevelSpec,
  };
}

const conditionLabel = (e: LayerEffect) => `${typeLabel(e.type)}, epoch ${e.start}${e.length > 1 ? `–${e.start + e.length - 1}` : ''}`;

/** One heatmap panel: condition × layer, mean over seeds of `field`, symmetric diverging colours. */
function effectPanel(values: Array<Record<string, unknown>>, field: 'delta' | 'delta_end', title: string, layers: { names: string[] }, extent: number, yLabels: boolean): object {
  const x = { field: 'layer_name', type: 'ordinal', title: 'Layer', sort: [...layers.names].reverse(), axis: { labelAngle: -30, grid: false } };
  // The conditions are labelled once, on the left panel; the right one has the same rows.
  const y = { field: 'condition', type: 'ordinal', title: null, sort: { field: 'order' }, axis: yLabels ? { grid: false, labelLimit: 320 } : { grid: false, labels: false, ticks: false } };
  return {
    title,
    width: { step: 54 },
    height: { step: 20 },
    data: { values },
    transform: [{ filter: `datum.${field} !== null` }],
    layer: [
      { mark: 'rect', encoding: { x, y, color: { field, type: 'quantitative', title: 'Δρ', scale: { scheme: 'redblue', domain: [-extent, extent] } } } },
      {
        mark: { type: 'text', fontSize: 10 },
        encoding: {
          x, y,
          text: { field, type: 'quantitative', format: '.3f' },
          color: { condition: { test: `abs(datum.${field}) > ${0.6 * extent}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}

/** Each perturbation condition's per-layer Δρ (mean over seeds) at its last perturbed epoch and at the run's end. */
export function layerEffectsFigure(results: Results): Figure | null {
  if (!results.layerEffects.length) return null;
  const panels = groupBy(results.layerEffects, (e) => e.model).map((arm) => {
    const values = groupBy(arm.items, (e) => ({ condition: conditionLabel(e), layer_name: e.layer_name })).map((g) => {
      const first = g.items[0]!;
      const ends = g.items.flatMap((e) => (e.delta_rsa_end === null ? [] : [e.delta_rsa_end]));
      return {
        ...g.key,
        // Rows in the kinds' order (random targets first, as in Fig 2), then by start and length.
        order: `${perturbationKinds.indexOf(first.type as PerturbationKind)}|${String(first.start).padStart(4, '0')}|${String(first.length).padStart(3, '0')}`,
        delta: mean(g.items.map((e) => e.delta_rsa)),
        delta_end: ends.length ? mean(ends) : null,
        n: g.items.length,
      };
    });
    const extent = Math.max(...values.flatMap((v) => [Math.abs(v.delta), Math.abs(v.delta_end ?? 0)])) || 1;
    const layers = layerAxis(arm.items);
    return {
      title: `${arm.key}: ${new Set(arm.items.map((e) => e.run)).size} runs`,
      hconcat: [
        effectPanel(values, 'delta', 'At the last perturbed epoch', layers, extent, true),
        effectPanel(values, 'delta_end', "At the run's last epoch", layers, extent, false),
      ],
      resolve: { scale: { color: 'shared' } },
    };
  });
  return {
    id: 'fig7_layer_effects',
    title: 'Fig 7. Per-layer effect of each perturbation on RSA',
    caption:
      'ρ of the run − ρ of its own seed\'s baseline at the same epoch and layer (layer_rsa of both), at the last perturbed epoch (left) and at the run\'s last epoch (right); ' +
      'with several seeds, their mean (each run in layer_effects.csv). Red: the perturbation lowered that layer\'s alignment. Blocks before the first trained one are frozen and the RSA images are always clean, so their Δρ is 0.',
    spec: { vconcat: panels } as TopLevelSpec,
  };
}

/** Fisher trace, ρ and loss by epoch for every baseline with epoch_measures, one line per seed. */
export function fisherFigure(arms: Arm[]): Figure | null {
  const rows = arms.flatMap((arm) => {
    const values = arm.baselines.flatMap((b, i) => {
      const fisher = b.measures?.fisher;
      if (!fisher?.length) return [];
      const byEpoch = new Map(b.full.rows.map((r) => [r.epoch, r]));
      return fisher.flatMap((f) => {
        const m = byEpoch.get(f.epoch);
        return m ? [{ seed: seedName(b, i), epoch: f.epoch, fisher: f.fisher_trace, rsa: m.rsa, loss: m.test_loss }] : [];
      });
    });
    if (!values.length) return [];
    const positive = values.every((v) => v.fisher > 0);
    const x = { field: 'epoch', type: 'quantitative', title: 'Epoch', scale: { nice: false }, axis: { tickMinStep: 1, format: 'd' } };
    const color = { field: 'seed', type: 'nominal', title: 'Baseline' };
    const panel = (field: string, title: string, yTitle: string, scale: object) => ({
      title, width: 240, height: 200,
      mark: { type: 'line', point: { size: 12 } },
      encoding: { x, y: { field, type: 'quantitative', title: yTitle, scale }, color, tooltip: [{ field: 'seed' }, { field: 'epoch' }, { field, format: '.4g' }] },
    });
    const probe = [...new Set(arm.baselines.flatMap((b) => b.measures?.fisher?.map((f) => f.fisher_probe) ?? []))].join(', ');
    return [{
      title: `${arm.model} baselines (probe of ${probe} training items)`,
      data: { values },
      hconcat: [
        // Short rotated axis titles of equal length: a longer one makes Vega lift its panel's title above the others.
        panel('fisher', `Fisher trace${positive ? ' (log scale)' : ''}`, 'tr F', positive ? { type: 'log' } : { zero: false }),
        panel('rsa', 'RSA of the output', 'ρ', { zero: false }),
        panel('loss', arm.model === 'CLIP-HBA' ? 'Test loss' : 'Validation loss', arm.model === 'CLIP-HBA' ? 'MSE' : 'CE', { zero: false }),
      ],
      resolve: { scale: { y: 'independent' } },
    }];
  });
  if (!rows.length) return null;
  return {
    id: 'fig8_fisher',
    title: 'Fig 8. Fisher information along the baselines, beside ρ and loss',
    caption:
      'Trace of the empirical Fisher information of the trainable parameters after each epoch (Achille et al. 2019): the mean over a fixed probe of clean training items (the first N in stored order) of the squared norm of the per-item loss gradient (epoch_measures.csv of each baseline). ' +
      'Middle and right: the same baselines\' ρ and loss (metrics.csv), over every epoch trained, not only to the min-loss epoch.',
    spec: { vconcat: rows } as TopLevelSpec,
  };
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
