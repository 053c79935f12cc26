import type { TopLevelSpec } from 'vega-lite';
import type { AnalysisParams, Arm, Results, SummaryRow } from './analyze.js';
import type { Baseline } from './effects.js';
import { TYPE_ORDER, typeLabel } from './labels.js';
import { ckaFigure } from './cka-figure.js';
import { fisherFigure, layerEffectsFigure, layerRsaBaselineFigure } from './measure-figures.js';
import type { Recovery } from './recovery.js';
import { groupBy, meanCI } from './summary.js';

/** A figure of the report: file stem, caption and its Vega-Lite spec (which carries the title too, for the standalone PNG). */
export interface Figure {
  id: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

const TYPE_COLORS = { domain: TYPE_ORDER, range: ['#4c78a8', '#f58518', '#54a24b', '#b279a2'] };
const BAND_COLOR = '#4c78a8';

/** Which axis a model's loss is on, with units. */
function lossTitle(model: string): string {
  return model === 'CLIP-HBA' ? 'Test loss (MSE over 66 SPoSE dimensions)' : 'Validation loss (cross-entropy)';
}

/** Short enough to stand rotated beside a 260 px plot: Vega reserves room for longer ones above the panel, pushing its title away. */
function shortLossTitle(model: string): string {
  return model === 'CLIP-HBA' ? 'Test loss (MSE)' : 'Val. loss (cross-entropy)';
}

/** The loss unit in short, for rotated axis titles (see shortLossTitle). */
function lossUnit(model: string): string {
  return model === 'CLIP-HBA' ? 'MSE' : 'CE';
}

/**
 * Epochs labelled on Fig 1: the study's 1, 5, 10, 15 and the min-loss epoch; for runs shorter than
 * 15 epochs, the first, the min-loss epoch and two in between.
 */
export function labelledEpochs(first: number, last: number): number[] {
  const picks = last >= 15 ? [1, 5, 10, 15, last] : [first, first + Math.round((last - first) / 3), first + Math.round((2 * (last - first)) / 3), last];
  return [...new Set(picks.filter((e) => e >= first && e <= last))];
}

/**
 * The baselines of one arm per epoch: mean, min and max of loss and ρ over the seeds whose
 * (truncated) baseline reaches that epoch, and how many those are.
 */
export function baselineBand(baselines: Baseline[]): Array<{ epoch: number; n: number; loss: number; loss_min: number; loss_max: number; rsa: number; rsa_min: number; rsa_max: number }> {
  const rows = baselines.flatMap((b) => b.truncated);
  return groupBy(rows, (r) => r.epoch)
    .sort((a, b) => a.key - b.key)
    .map((g) => {
      const loss = g.items.map((r) => r.test_loss);
      const rsa = g.items.map((r) => r.rsa);
      return { epoch: g.key, n: g.items.length, loss: mean(loss), loss_min: Math.min(...loss), loss_max: Math.max(...loss), rsa: mean(rsa), rsa_min: Math.min(...rsa), rsa_max: Math.max(...rsa) };
    });
}

function seedName(b: Baseline, i: number): string {
  return b.seed === null ? `baseline ${i + 1}` : `seed ${b.seed}`;
}

/** ρ against loss (the study's S-curve): every seed faint, their per-epoch mean bold with labelled epochs. */
function sCurve(arm: Arm, band: ReturnType<typeof baselineBand>): object {
  const first = band[0]!.epoch;
  const last = band.at(-1)!.epoch;
  const labels = new Set(labelledEpochs(first, last));
  const values = band.map((r) => ({
    epoch: r.epoch,
    loss: r.loss,
    rsa: r.rsa,
    label: labels.has(r.epoch) ? `epoch ${r.epoch}` : null,
    // The curve mostly rises to the right: labels go below-right of their point, the first one
    // (bottom-left corner) above-right, the last one (min loss, right edge) right below its point.
    side: r.epoch === first ? 'first' : r.epoch === last ? 'last' : 'middle',
  }));
  const seeds = arm.baselines.flatMap((b, i) => b.truncated.map((r) => ({ seed: seedName(b, i), epoch: r.epoch, loss: r.test_loss, rsa: r.rsa })));
  const x = { field: 'loss', type: 'quantitative', scale: { reverse: true, zero: false, padding: 14 }, title: `${lossTitle(arm.model)}, lower →` };
  const y = { field: 'rsa', type: 'quantitative', scale: { zero: false, padding: 14 }, title: 'RSA (Spearman ρ)' };
  const labelLayer = (side: string, placement: object) => ({
    data: { values },
    transform: [{ filter: `datum.label !== null && datum.side === '${side}'` }],
    mark: { type: 'text', fontSize: 12, ...placement },
    encoding: { x, y, text: { field: 'label' } },
  });
  const several = arm.baselines.length > 1;
  return {
    title: several ? `ρ against loss: mean of ${arm.baselines.length} seeds (faint: each seed)` : 'ρ against loss',
    width: 330,
    height: 260,
    layer: [
      ...(several ? [{ data: { values: seeds }, mark: { type: 'line', color: '#9ab', strokeWidth: 1, opacity: 0.7 }, encoding: { x, y, detail: { field: 'seed' }, order: { field: 'epoch' } } }] : []),
      { data: { values }, mark: { type: 'line', color: BAND_COLOR, point: { size: 18 } }, encoding: { x, y, order: { field: 'epoch' } } },
      { data: { values }, transform: [{ filter: 'datum.label !== null' }], mark: { type: 'point', filled: true, size: 70, color: '#e45756' }, encoding: { x, y } },
      labelLayer('first', { dx: 7, dy: -12, align: 'left' }),
      labelLayer('middle', { dx: 7, dy: 13, align: 'left' }),
      labelLayer('last', { dy: 18, align: 'center' }),
    ],
  };
}

/** One measure of the baselines by epoch: min–max band over seeds and their mean. */
function bandPanel(band: ReturnType<typeof baselineBand>, field: 'rsa' | 'loss', title: string, yTitle: string, seeds: number): object {
  const x = { field: 'epoch', type: 'quantitative', title: 'Epoch', scale: { nice: false }, axis: { tickMinStep: 1, format: 'd' } };
  return {
    title,
    width: 260,
    height: 260,
    data: { values: band },
    layer: [
      ...(seeds > 1
        ? [{ mark: { type: 'area', color: BAND_COLOR, opacity: 0.22 }, encoding: { x, y: { field: `${field}_min`, type: 'quantitative', scale: { zero: false }, title: yTitle }, y2: { field: `${field}_max` } } }]
        : []),
      {
        mark: { type: 'line', color: BAND_COLOR, point: { size: 14 } },
        encoding: {
          x,
          y: { field, type: 'quantitative', scale: { zero: false }, title: yTitle },
          tooltip: [{ field: 'epoch' }, { field: 'n', title: 'seeds' }, { field, format: '.4f' }, { field: `${field}_min`, format: '.4f' }, { field: `${field}_max`, format: '.4f' }],
        },
      },
    ],
  };
}

function fig1(arms: Arm[]): Figure {
  const rows = arms.map((arm) => {
    const band = baselineBand(arm.baselines);
    const n = arm.baselines.length;
    const what = n > 1 ? `mean of ${n} seeds, band min–max` : 'one seed';
    return {
      title: `${arm.model} baseline${n > 1 ? `s (${n} seeds)` : ''}, epochs ${band[0]!.epoch}–${band.at(-1)!.epoch} (to the min-loss epoch)`,
      hconcat: [
        sCurve(arm, band),
        bandPanel(band, 'rsa', `ρ by epoch (${what})`, 'RSA (Spearman ρ)', n),
        bandPanel(band, 'loss', `Loss by epoch (${what})`, shortLossTitle(arm.model), n),
      ],
      resolve: { scale: { x: 'independent', y: 'independent' } },
    };
  });
  return {
    id: 'fig1_baseline',
    title: 'Fig 1. Alignment and loss along the baselines',
    caption:
      'Left: ρ against loss along the baseline (loss falls to the right), each baseline truncated at its own minimum loss; labelled points mark early epochs and the min-loss epoch. ' +
      'Middle and right: ρ and loss by epoch; with several seeds the line is their mean and the band spans their minimum to maximum at each epoch (over the seeds whose baseline reaches that epoch).',
    spec: { vconcat: rows, resolve: { scale: { x: 'independent', y: 'independent' } } } as TopLevelSpec,
  };
}

/** A condition's measure from the summary table: mean, interval, significance. */
interface Stat {
  mean: number;
  lo: number | null;
  hi: number | null;
  sig: boolean;
  n: number;
}

function statsOf(summary: SummaryRow[], measure: string): Map<string, Stat> {
  const map = new Map<string, Stat>();
  for (const r of summary) {
    if (r.measure !== measure) continue;
    map.set(conditionId(r), { mean: r.mean, lo: r.ci_low, hi: r.ci_high, sig: r.significant === true, n: r.n });
  }
  return map;
}

const conditionId = (r: { model: string; type: string; start: number; length: number }) => `${r.model}|${r.type}|${r.start}|${r.length}`;

/**
 * `{ dloss, dloss_lo, dloss_hi, dloss_sig, dloss_tip }`: the mean, its interval where there are
 * seeds, whether it is beyond seed noise, and the end of bar or interval where its mark goes.
 */
function measureFields(field: string, s: Stat): Record<string, number | boolean | null> {
  const tip = s.mean >= 0 ? Math.max(s.mean, s.hi ?? s.mean) : Math.min(s.mean, s.lo ?? s.mean);
  return { [field]: s.mean, [`${field}_lo`]: s.lo, [`${field}_hi`]: s.hi, [`${field}_sig`]: s.sig, [`${field}_tip`]: tip, n: s.n };
}

/** A 95% interval over seeds as a thin vertical line on each bar that has one. */
function ciRule(field: string, x: object, offset: object = {}): object {
  return {
    transform: [{ filter: `datum.${field}_lo !== null` }],
    mark: { type: 'rule', color: 'black', strokeWidth: 1.5 },
    encoding: { x, ...offset, y: { field: `${field}_lo`, type: 'quantitative' }, y2: { field: `${field}_hi` } },
  };
}

/** A star beyond the bar (and its interval) of every effect with q below the FDR level. */
function starLayers(field: string, x: object, offset: object = {}): object[] {
  const star = (positive: boolean) => ({
    transform: [{ filter: `datum.${field}_sig && datum.${field} ${positive ? '>=' : '<'} 0` }],
    mark: { type: 'text', text: '*', fontSize: 17, fontWeight: 'bold', baseline: positive ? 'bottom' : 'top', dy: 1 },
    encoding: { x, ...offset, y: { field: `${field}_tip`, type: 'quantitative' } },
  });
  return [star(true), star(false)];
}

const ZERO_RULE = { mark: { type: 'rule', color: '#333' }, encoding: { y: { datum: 0 } } };

/**
 * Bars that differ by more than this factor (largest / smallest non-zero |mean|) in one panel get a
 * symmetric-log scale there: one blank-image epoch can cost 200× the loss of the others.
 */
const SYMLOG_RATIO = 50;

/** One row of Fig 2: a panel per perturbation type, each with its own y scale (one huge bar must not flatten the others). */
function typePanels(values: Array<Record<string, unknown>>, field: string, yTitle: string, starts: number): object {
  const x = { field: 'start', type: 'ordinal', title: 'Perturbed epoch E', axis: { labelAngle: 0, labelOverlap: 'parity' } };
  const panels = TYPE_ORDER.flatMap((type) => {
    const mine = values.filter((v) => v.type === type);
    if (mine.length === 0) return [];
    const sizes = mine.map((v) => Math.abs(v[field] as number)).filter((a) => a > 0);
    const symlog = sizes.length > 1 && Math.max(...sizes) / Math.min(...sizes) > SYMLOG_RATIO;
    // Linear up to the smallest bar, logarithmic beyond: every bar keeps a visible height. Its
    // ticks are powers of ten (Vega's own crowd at the top), and the domain doubles the extremes
    // to leave the stars room (padding would be in symlog units).
    const tips = mine.map((v) => v[`${field}_tip`] as number);
    const lo = Math.min(0, ...tips);
    const hi = Math.max(0, ...tips);
    const decades = [0, ...[-4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6].map((k) => 10 ** k)].filter((t) => t === 0 || (t >= Math.min(...sizes) / 2 && t <= 2 * Math.max(-lo, hi)));
    const ticks = [...decades.filter((t) => t > 0 && lo < 0 && t <= -2 * lo).map((t) => -t).reverse(), ...decades.filter((t) => t === 0 || t <= 2 * hi)];
    const scale = symlog ? { type: 'symlog', constant: Math.min(...sizes), domain: [2 * lo, 2 * hi], nice: false } : { padding: 14 };
    // A label expression: Vega formats symlog ticks its own way (1e+3) whatever the format says.
    const axis = symlog ? { values: ticks, labelExpr: "format(datum.value, ',')" } : {};
    return [
      {
        title: { text: type, anchor: 'middle', fontSize: 13, fontWeight: 'bold' },
        width: Math.min(320, Math.max(120, starts * 22)),
        height: 170,
        data: { values: mine },
        layer: [
          {
            mark: 'bar',
            encoding: {
              x,
              // Padding: room beyond the longest bar or interval for its star.
              y: { field, type: 'quantitative', title: symlog ? yTitle.replace(')', ', symlog)') : yTitle, scale, axis },
              color: { field: 'type', type: 'nominal', scale: TYPE_COLORS, legend: null },
              tooltip: [{ field: 'type' }, { field: 'start' }, { field: 'n', title: 'seeds' }, { field, format: '.4f' }, { field: `${field}_lo`, format: '.4f' }, { field: `${field}_hi`, format: '.4f' }],
            },
          },
          ciRule(field, x),
          ...starLayers(field, x),
          ZERO_RULE,
        ],
      },
    ];
  });
  return { hconcat: panels, resolve: { scale: { x: 'independent', y: 'independent' } } };
}

/**
 * Fig 2: single-epoch perturbations of every type. CLIP-HBA at the chosen epochs (all its starts
 * when none of them was run); the ViT's measurements at every start, as in the study's Fig 2b.
 */
function fig2(arms: Arm[], results: Results, epochs: number[]): Figure | null {
  const loss = statsOf(results.summary, 'delta_test_loss');
  const rsa = statsOf(results.summary, 'delta_rsa');
  const conditions = groupBy(results.effects.filter((e) => e.length === 1), (e) => ({ model: e.model, type: e.type, start: e.start, length: e.length })).map((g) => g.key);
  const rows = arms.flatMap((arm) => {
    const mine = conditions.filter((c) => c.model === arm.model);
    const chosen = arm.runsContinue ? mine.filter((c) => epochs.includes(c.start)) : mine;
    const shown = chosen.length > 0 ? chosen : mine;
    if (shown.length === 0) return [];
    const values = shown.map((c) => ({ type: typeLabel(c.type), start: c.start, ...measureFields('dloss', loss.get(conditionId(c))!), ...measureFields('drsa', rsa.get(conditionId(c))!) }));
    const starts = Math.max(...groupBy(shown, (c) => c.type).map((g) => g.items.length));
    return [
      {
        title: arm.model,
        vconcat: [typePanels(values, 'dloss', `ΔLoss (${lossUnit(arm.model)})`, starts), typePanels(values, 'drsa', 'ΔRSA (Δρ)', starts)],
      },
    ];
  });
  if (rows.length === 0) return null;
  return {
    id: 'fig2_types',
    title: 'Fig 2. Perturbation types: effect of one perturbed epoch',
    caption:
      `Run minus the baseline of the same seed at the perturbed epoch E itself (its end-of-epoch value), for single-epoch perturbations: ΔLoss (CLIP-HBA: test MSE; ViT: validation cross-entropy, CE) and ΔRSA. One panel per type, each with its own y scale; a panel whose bars differ more than ${SYMLOG_RATIO}-fold has a symmetric-log scale (linear up to its smallest bar), and its axis says so. ` +
      'With several seeds: their mean, a black line for the 95% t-interval, and * where the paired test over seeds is significant after Benjamini-Hochberg correction (q < 0.05).',
    spec: { vconcat: rows } as TopLevelSpec,
  };
}

function signBars(values: object[], field: string, title: string, domain: string[], range: string[], legend: string): object {
  const x = { field: 'start', type: 'ordinal', title: 'Perturbed epoch E (one epoch of random targets)', axis: { labelAngle: 0, labelOverlap: 'parity' } };
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
          x,
          y: { field, type: 'quantitative', title, scale: { padding: 14 } },
          color: { field: `${field}_sign`, type: 'nominal', title: legend, scale: { domain, range } },
          tooltip: [{ field: 'start' }, { field: 'n', title: 'seeds' }, { field, format: '.4f' }],
        },
      },
      ciRule(field, x),
      ...starLayers(field, x),
      ZERO_RULE,
    ],
  };
}

function fig3(results: Results): Figure | null {
  const loss = statsOf(results.summary, 'delta_test_loss');
  const rsa = statsOf(results.summary, 'delta_rsa');
  const sweep = groupBy(
    results.effects.filter((e) => e.model === 'CLIP-HBA' && e.type === 'random_target' && e.length === 1),
    (e) => ({ model: e.model, type: e.type, start: e.start, length: e.length }),
  ).map((g) => g.key);
  if (sweep.length === 0) return null;
  const values = sweep.map((c) => ({ start: c.start, ...measureFields('dloss', loss.get(conditionId(c))!), ...measureFields('drsa', rsa.get(conditionId(c))!) }));
  return {
    id: 'fig3_sweep',
    title: 'Fig 3. Single-epoch sweep: one epoch of random targets',
    caption:
      'Random targets for one epoch at each start epoch; run minus the baseline of the same seed at that epoch. Colours by sign as in the study. ' +
      'With several seeds: mean, 95% t-interval (black line), and * where the paired test over seeds is significant after Benjamini-Hochberg correction (q < 0.05).',
    spec: {
      vconcat: [
        signBars(values, 'dloss', 'ΔTest loss (MSE)', ['ΔLoss > 0', 'ΔLoss ≤ 0'], ['#d62728', '#2ca02c'], 'ΔLoss'),
        signBars(values, 'drsa', 'ΔRSA (Δρ)', ['ΔRSA > 0', 'ΔRSA ≤ 0'], ['#2ca02c', '#1f77b4'], 'ΔRSA'),
      ],
      resolve: { scale: { color: 'independent' } },
    } as TopLevelSpec,
  };
}

/** Random-target runs of the CLIP arm used by Fig 4 and the heatmaps: the multi-epoch ones when there are any. */
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

function recoveryBars(recovery: Recovery[], text: RecoveryFigure, level: number): Figure | null {
  const runs = lengthRuns(recovery);
  if (runs.length === 0) return null;
  const values = groupBy(runs, (r) => ({ start: r.start, length: r.length })).map((g) => {
    const done = g.items.flatMap((r) => (r.recovery_epochs === null ? [] : [r.recovery_epochs]));
    const ci = meanCI(done, level);
    const nr = g.items.length - done.length;
    return {
      ...g.key,
      epochs: done.length > 0 ? ci.mean : 0,
      epochs_lo: ci.ci_low,
      epochs_hi: ci.ci_high,
      // All NR: "NR" on the axis; some: how many of the seeds never recovered, above the bar.
      nr: done.length === 0 ? 'NR' : null,
      some_nr: done.length > 0 && nr > 0 ? `${nr}/${g.items.length} NR` : null,
      top: done.length > 0 ? Math.max(ci.mean, ci.ci_high ?? ci.mean) : 0,
      n: g.items.length,
    };
  });
  const x = { field: 'start', type: 'ordinal', title: 'Perturbation start epoch', axis: { labelAngle: 0 } };
  const xOffset = { field: 'length', type: 'ordinal' };
  const y = { field: 'epochs', type: 'quantitative', title: text.yTitle, axis: { tickMinStep: 1, format: 'd' } };
  const upward = { type: 'text', fontSize: 11, angle: 270, align: 'left', baseline: 'middle', dx: 4 };
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
        {
          mark: 'bar',
          encoding: {
            x,
            xOffset,
            y,
            color: { field: 'length', type: 'ordinal', title: 'Length (epochs)', scale: { scheme: 'viridis' } },
            tooltip: [{ field: 'start' }, { field: 'length' }, { field: 'n', title: 'seeds' }, { field: 'epochs', format: '.2f' }, { field: 'some_nr' }],
          },
        },
        {
          transform: [{ filter: 'datum.epochs_lo !== null' }],
          mark: { type: 'rule', color: 'black', strokeWidth: 1.5 },
          encoding: { x, xOffset, y: { field: 'epochs_lo', type: 'quantitative' }, y2: { field: 'epochs_hi' } },
        },
        // Written upwards from the axis, so that NR labels of neighbouring bars do not overlap.
        { transform: [{ filter: "datum.nr === 'NR'" }], mark: { ...upward, color: '#d62728', fontSize: 12 }, encoding: { x, xOffset, y, text: { field: 'nr' } } },
        { transform: [{ filter: 'datum.some_nr !== null' }], mark: { ...upward, color: '#d62728' }, encoding: { x, xOffset, y: { field: 'top', type: 'quantitative' }, text: { field: 'some_nr' } } },
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

function heatmaps(results: Results): Figure | null {
  const runs = lengthRuns(results.effects);
  if (runs.length === 0) return null;
  const values = groupBy(runs, (e) => ({ start: e.start, length: e.length })).map((g) => ({
    ...g.key,
    align: mean(g.items.map((e) => e.max_alignment_deviation)),
    loss: mean(g.items.map((e) => e.min_loss_deviation)),
  }));
  return {
    id: 'fig5_deviations',
    title: 'Fig 5. Deviations from the baseline over start × length (random targets)',
    caption:
      'Left: max ρ of the run − max ρ of the truncated baseline of its seed (blue: the run reached higher alignment). Right: min test loss of the run − that baseline\'s minimum (red: worse). ' +
      'With several seeds: their mean (intervals in summary.csv).',
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

/** The figure's title inside its spec, so that the standalone PNG and SVG say what they show. */
function titled(figure: Figure): Figure {
  return { ...figure, spec: { title: { text: figure.title, fontSize: 16 }, ...figure.spec } as TopLevelSpec };
}

/** Every figure the data supports, in report order. */
export function buildFigures(arms: Arm[], results: Results, params: AnalysisParams): Figure[] {
  return [
    fig1(arms),
    fig2(arms, results, params.fig2Epochs),
    fig3(results),
    recoveryBars(
      results.recovery,
      {
        id: 'fig4_recovery',
        title: 'Fig 4. Recovery after random targets of different lengths',
        caption: `Epochs from the last perturbed epoch until the test loss is back within ${params.recoveryThreshold}× the baseline's of the same seed (the baseline minimum past its min-loss epoch). NR: never recovered before the run stopped. Several seeds: mean over those that recovered, with the 95% t-interval (black line) and how many never did (k/n NR).`,
        yTitle: "Epochs to loss recovery",
      },
      params.ciLevel,
    ),
    recoveryBars(
      results.alignment,
      {
        id: 'fig4b_alignment_recovery',
        title: 'Fig 4b. Alignment recovery after random targets (not computed in the study)',
        caption: `Epochs from the last perturbed epoch until ρ is within ${params.alignmentTolerance} of the baseline's ρ at the same epoch (its ρ at the min-loss epoch beyond that). NR: never within the tolerance before the run stopped. Several seeds as in Fig 4.`,
        yTitle: `Epochs until |Δρ| ≤ ${params.alignmentTolerance}`,
      },
      params.ciLevel,
    ),
    heatmaps(results),
    layerRsaBaselineFigure(arms),
    layerEffectsFigure(results),
    fisherFigure(arms),
    ckaFigure(arms),
  ]
    .filter((f): f is Figure => f !== null)
    .map(titled);
}
