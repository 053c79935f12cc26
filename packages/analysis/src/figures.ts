import type { TopLevelSpec } from 'vega-lite';
import type { AnalysisParams, Arm, Results } from './analyze.js';
import type { Effect } from './effects.js';
import type { Recovery } from './recovery.js';
import { groupBy, meanCI } from './summary.js';

/** A figure of the report: file stem, caption and its Vega-Lite spec. */
export interface Figure {
  id: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

const TYPE_LABELS: Record<string, string> = {
  random_target: 'Target noise',
  label_shuffle: 'Label shuffle',
  image_noise: 'Image noise',
  blank_image: 'Blank image',
};
const TYPE_ORDER = Object.values(TYPE_LABELS);
/** Every type keeps its slot in a group, so bars and their intervals line up across layers and panels. */
const TYPE_OFFSET = { field: 'type', type: 'nominal', scale: { domain: TYPE_ORDER } };

/** Which x axis the baseline of a model is plotted against, with units. */
function lossTitle(model: string): string {
  return model === 'CLIP-HBA' ? 'Test loss (MSE over 66 SPoSE dimensions)' : 'Validation loss (cross-entropy)';
}

/**
 * Epochs labelled on Fig 1: the study's 1, 5, 10, 15 and the min-loss epoch; for runs shorter than
 * 15 epochs, the first, the min-loss epoch and two in between.
 */
export function labelledEpochs(first: number, last: number): number[] {
  const picks = last >= 15 ? [1, 5, 10, 15, last] : [first, first + Math.round((last - first) / 3), first + Math.round((2 * (last - first)) / 3), last];
  return [...new Set(picks.filter((e) => e >= first && e <= last))];
}

function fig1(arms: Arm[]): Figure {
  const panels = arms.map((arm) => {
    const rows = arm.baseline.truncated;
    const labels = new Set(labelledEpochs(rows[0]!.epoch, rows.at(-1)!.epoch));
    const first = rows[0]!.epoch;
    const last = rows.at(-1)!.epoch;
    const values = rows.map((r) => ({
      epoch: r.epoch,
      loss: r.test_loss,
      rsa: r.rsa,
      label: labels.has(r.epoch) ? `epoch ${r.epoch}` : null,
      // The curve mostly rises to the right: labels go below-right of their point, the first one
      // (bottom-left corner) above-right, the last one (min loss, right edge) right below its point.
      side: r.epoch === first ? 'first' : r.epoch === last ? 'last' : 'middle',
    }));
    const x = { field: 'loss', type: 'quantitative', scale: { reverse: true, zero: false, padding: 14 }, title: `${lossTitle(arm.baseline.model)}, lower →` };
    const y = { field: 'rsa', type: 'quantitative', scale: { zero: false, padding: 14 }, title: 'RSA with human RDM (Spearman ρ)' };
    const labelLayer = (side: string, placement: object) => ({
      transform: [{ filter: `datum.label !== null && datum.side === '${side}'` }],
      mark: { type: 'text', fontSize: 12, ...placement },
      encoding: { x, y, text: { field: 'label' } },
    });
    return {
      title: `${arm.baseline.model} baseline, epochs ${rows[0]!.epoch}–${rows.at(-1)!.epoch} (min loss)`,
      width: 380,
      height: 300,
      data: { values },
      layer: [
        { mark: { type: 'line', color: '#4c78a8', point: { size: 18 } }, encoding: { x, y, order: { field: 'epoch' } } },
        { transform: [{ filter: 'datum.label !== null' }], mark: { type: 'point', filled: true, size: 70, color: '#e45756' }, encoding: { x, y } },
        labelLayer('first', { dx: 7, dy: -12, align: 'left' }),
        labelLayer('middle', { dx: 7, dy: 13, align: 'left' }),
        labelLayer('last', { dy: 18, align: 'center' }),
      ],
    };
  });
  return {
    id: 'fig1_baseline',
    title: 'Fig 1. Alignment against loss along the baseline',
    caption: 'Each point is one epoch of the baseline, truncated at its minimum loss; loss falls to the right. Labelled points mark early epochs and the min-loss epoch.',
    spec: { hconcat: panels, resolve: { scale: { x: 'independent', y: 'independent' } } } as TopLevelSpec,
  };
}

/** `{ dloss: mean, dloss_lo, dloss_hi }`, the interval only where there are repeats (seeds). */
function withCI(field: string, values: number[]): Record<string, number | null> {
  const ci = meanCI(values);
  return { [field]: ci.mean, [`${field}_lo`]: ci.ci_low, [`${field}_hi`]: ci.ci_high };
}

/** A 95% interval over seeds as a thin vertical line on each bar that has one. */
function ciRule(field: string, offset: object): object {
  return {
    transform: [{ filter: `datum.${field}_lo !== null` }],
    mark: { type: 'rule', color: 'black', strokeWidth: 2 },
    encoding: {
      x: { field: 'start', type: 'ordinal' },
      ...offset,
      y: { field: `${field}_lo`, type: 'quantitative' },
      y2: { field: `${field}_hi` },
    },
  };
}

function deltaBars(values: object[], field: string, title: string): object {
  return {
    width: 330,
    height: 240,
    data: { values },
    layer: [
      {
        mark: 'bar',
        encoding: {
          x: { field: 'start', type: 'ordinal', title: 'Perturbed epoch E', axis: { labelAngle: 0 } },
          xOffset: TYPE_OFFSET,
          y: { field, type: 'quantitative', title },
          color: { field: 'type', type: 'nominal', sort: TYPE_ORDER, title: 'Perturbation', scale: { domain: TYPE_ORDER, scheme: 'tableau10' } },
          tooltip: [{ field: 'type' }, { field: 'start' }, { field, format: '.4f' }],
        },
      },
      ciRule(field, { xOffset: TYPE_OFFSET }),
      { mark: { type: 'rule', color: '#333' }, encoding: { y: { datum: 0 } } },
    ],
  };
}

function fig2(arms: Arm[], effects: Effect[], epochs: number[]): Figure | null {
  const single = effects.filter((e) => e.length === 1);
  const rows = arms.flatMap((arm) => {
    const mine = single.filter((e) => e.model === arm.baseline.model);
    const chosen = mine.filter((e) => epochs.includes(e.start));
    const shown = chosen.length > 0 ? chosen : mine;
    if (shown.length === 0) return [];
    const values = groupBy(shown, (e) => ({ type: TYPE_LABELS[e.type]!, start: e.start })).map((g) => ({
      ...g.key,
      ...withCI('dloss', g.items.map((e) => e.delta_test_loss)),
      ...withCI('drsa', g.items.map((e) => e.delta_rsa)),
    }));
    const unit = arm.baseline.model === 'CLIP-HBA' ? 'MSE' : 'cross-entropy';
    return [
      {
        title: arm.baseline.model,
        hconcat: [deltaBars(values, 'dloss', `ΔLoss at E (${unit})`), deltaBars(values, 'drsa', 'ΔRSA at E (Δρ)')],
      },
    ];
  });
  if (rows.length === 0) return null;
  return {
    id: 'fig2_types',
    title: 'Fig 2. Perturbation types at selected epochs',
    caption: 'Run minus baseline at the perturbed epoch itself (its end-of-epoch value), for single-epoch perturbations. Where there are several seeds: their mean, with a black line for the 95% t-interval.',
    spec: (rows.length === 1 ? rows[0] : { vconcat: rows, resolve: { scale: { y: 'independent' } } }) as TopLevelSpec,
  };
}

function signBars(values: object[], field: string, title: string, domain: string[], range: string[], legend: string): object {
  return {
    // 98 epochs fit in 760 px; a handful get narrower bars rather than slabs.
    width: Math.min(760, Math.max(240, values.length * 40)),
    height: 200,
    data: { values },
    transform: [{ calculate: `datum.${field} > 0 ? '${domain[0]}' : '${domain[1]}'`, as: `${field}_sign` }],
    layer: [
      {
        mark: 'bar',
        encoding: {
          x: { field: 'start', type: 'ordinal', title: 'Perturbed epoch (single-epoch target noise)', axis: { labelAngle: 0, labelOverlap: 'parity' } },
          y: { field, type: 'quantitative', title },
          color: { field: `${field}_sign`, type: 'nominal', title: legend, scale: { domain, range } },
          tooltip: [{ field: 'start' }, { field, format: '.4f' }],
        },
      },
      ciRule(field, {}),
      { mark: { type: 'rule', color: '#333' }, encoding: { y: { datum: 0 } } },
    ],
  };
}

function fig3(effects: Effect[]): Figure | null {
  const sweep = effects.filter((e) => e.model === 'CLIP-HBA' && e.type === 'random_target' && e.length === 1);
  if (sweep.length === 0) return null;
  const values = groupBy(sweep, (e) => e.start).map((g) => ({
    start: g.key,
    ...withCI('dloss', g.items.map((e) => e.delta_test_loss)),
    ...withCI('drsa', g.items.map((e) => e.delta_rsa)),
  }));
  return {
    id: 'fig3_sweep',
    title: 'Fig 3. Single-epoch sweep',
    caption: 'Target noise for one epoch at each start epoch; run minus baseline at that epoch. Colours by sign as in the study. Several seeds: mean and 95% t-interval (black line).',
    spec: {
      vconcat: [
        signBars(values, 'dloss', 'ΔTest loss (MSE)', ['ΔLoss > 0', 'ΔLoss ≤ 0'], ['#d62728', '#2ca02c'], 'ΔLoss'),
        signBars(values, 'drsa', 'ΔRSA (Δρ)', ['ΔRSA > 0', 'ΔRSA ≤ 0'], ['#2ca02c', '#1f77b4'], 'ΔRSA'),
      ],
      resolve: { scale: { color: 'independent' } },
    } as TopLevelSpec,
  };
}

/** Target-noise runs of the CLIP arm used by Fig 4 and the heatmaps: the multi-epoch ones when there are any. */
function lengthRuns<T extends { model: string; type: string; length: number }>(items: T[]): T[] {
  const target = items.filter((r) => r.model === 'CLIP-HBA' && r.type === 'random_target');
  const long = target.filter((r) => r.length > 1);
  return long.length > 0 ? long : target;
}

/** How Fig 4 and its alignment twin differ: which recoveries, and the words around them. */
interface RecoveryFigure {
  id: string;
  title: string;
  caption: string;
  yTitle: string;
}

function recoveryBars(recovery: Recovery[], text: RecoveryFigure): Figure | null {
  const runs = lengthRuns(recovery);
  if (runs.length === 0) return null;
  const values = groupBy(runs, (r) => ({ start: r.start, length: r.length })).map((g) => {
    const done = g.items.flatMap((r) => (r.recovery_epochs === null ? [] : [r.recovery_epochs]));
    return { ...g.key, epochs: done.length > 0 ? mean(done) : 0, nr: done.length === 0 ? 'NR' : null };
  });
  const x = { field: 'start', type: 'ordinal', title: 'Perturbation start epoch', axis: { labelAngle: 0 } };
  const xOffset = { field: 'length', type: 'ordinal' };
  const y = { field: 'epochs', type: 'quantitative', title: text.yTitle, axis: { tickMinStep: 1, format: 'd' } };
  return {
    id: text.id,
    title: text.title,
    caption: text.caption,
    spec: {
      // About 16 px per bar plus a gap per start epoch: the study's 11 × 7 grid fits a page, a few conditions do not become slabs.
      width: Math.max(220, new Set(values.map((v) => v.start)).size * (16 * new Set(values.map((v) => v.length)).size + 16)),
      height: 300,
      data: { values },
      layer: [
        { mark: 'bar', encoding: { x, xOffset, y, color: { field: 'length', type: 'ordinal', title: 'Length (epochs)', scale: { scheme: 'viridis' } } } },
        {
          transform: [{ filter: "datum.nr === 'NR'" }],
          // Written upwards from the axis, so that NR labels of neighbouring bars do not overlap.
          mark: { type: 'text', color: '#d62728', fontSize: 12, angle: 270, align: 'left', baseline: 'middle', dx: 4 },
          encoding: { x, xOffset, y, text: { field: 'nr' } },
        },
      ],
    } as TopLevelSpec,
  };
}

function heatmap(values: Array<Record<string, number>>, field: string, title: string, legend: string, reverse: boolean, format: string): object {
  const x = { field: 'start', type: 'ordinal', title: 'Start epoch', axis: { labelAngle: 0, grid: false } };
  // A short title: a rotated one longer than the plot would stick out above it.
  const y = { field: 'length', type: 'ordinal', title: 'Length (epochs)', sort: 'descending', axis: { grid: false } };
  // Symmetric around 0, so equal colour depth means equal size on either side.
  const extent = Math.max(...values.map((v) => Math.abs(v[field]!))) || 1;
  // A colour bar no taller than the grid, which would otherwise push the panel title away.
  const gradient = Math.max(80, 36 * new Set(values.map((v) => v.length)).size - 20);
  return {
    title,
    width: { step: 56 },
    height: { step: 36 },
    data: { values },
    layer: [
      { mark: 'rect', encoding: { x, y, color: { field, type: 'quantitative', title: legend, scale: { scheme: 'redblue', domain: [-extent, extent], reverse }, legend: { gradientLength: gradient } } } },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          x,
          y,
          text: { field, type: 'quantitative', format },
          // Dark cells (the outer part of the colour scale) get white numbers.
          color: { condition: { test: `abs(datum.${field}) > ${0.6 * extent}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}

function heatmaps(effects: Effect[]): Figure | null {
  const runs = lengthRuns(effects);
  if (runs.length === 0) return null;
  const values = groupBy(runs, (e) => ({ start: e.start, length: e.length })).map((g) => ({
    ...g.key,
    align: mean(g.items.map((e) => e.max_alignment_deviation)),
    loss: mean(g.items.map((e) => e.min_loss_deviation)),
  }));
  return {
    id: 'fig5_deviations',
    title: 'Deviations from the baseline over start × length',
    caption: 'Left: max ρ of the run − max ρ of the truncated baseline (blue: the run reached higher alignment). Right: min test loss of the run − the baseline minimum (red: worse).',
    spec: {
      hconcat: [
        heatmap(values, 'align', 'Maximum-alignment deviation', 'Δ max ρ', false, '.3f'),
        heatmap(values, 'loss', 'Minimum-loss deviation', 'Δ min loss (MSE)', true, '.2f'),
      ],
      resolve: { scale: { color: 'independent' } },
    } as TopLevelSpec,
  };
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Every figure the data supports, in report order. */
export function buildFigures(arms: Arm[], results: Results, params: AnalysisParams): Figure[] {
  return [
    fig1(arms),
    fig2(arms, results.effects, params.fig2Epochs),
    fig3(results.effects),
    recoveryBars(results.recovery, {
      id: 'fig4_recovery',
      title: 'Fig 4. Recovery after target noise of different lengths',
      caption: `Epochs from the last perturbed epoch until the test loss is back within ${params.recoveryThreshold}× the baseline's (the baseline minimum past its min-loss epoch). NR: never recovered before the run stopped. Several seeds: mean over those that recovered.`,
      yTitle: `Epochs to recovery (loss ≤ ${params.recoveryThreshold} × baseline)`,
    }),
    recoveryBars(results.alignment, {
      id: 'fig4b_alignment_recovery',
      title: 'Fig 4b. Alignment recovery (not computed in the study)',
      caption: `Epochs from the last perturbed epoch until ρ is within ${params.alignmentTolerance} of the baseline's ρ at the same epoch (its ρ at the min-loss epoch beyond that). NR: never within the tolerance before the run stopped.`,
      yTitle: `Epochs until |Δρ| ≤ ${params.alignmentTolerance}`,
    }),
    heatmaps(results.effects),
  ].filter((f): f is Figure => f !== null);
}
