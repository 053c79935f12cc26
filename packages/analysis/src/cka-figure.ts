import type { TopLevelSpec } from 'vega-lite';
import type { Arm } from './analyze.js';
import type { Figure } from './figures.js';

/**
 * CKA of the baselines with the human embedding (eval/cka tasks), one panel per kernel, beside the
 * same baselines' ρ: the two alignment measures side by side, one line per seed.
 */
export function ckaFigure(arms: Arm[]): Figure | null {
  const rows = arms.flatMap((arm) => {
    const labels = [...new Set(arm.baselines.flatMap((b) => b.cka?.map((s) => s.label) ?? []))];
    if (!labels.length) return [];
    const seedName = (seed: number | null, i: number) => (seed === null ? `baseline ${i + 1}` : `seed ${seed}`);
    const values = arm.baselines.flatMap((b, i) => (b.cka ?? []).flatMap((s) => s.rows.map((r) => ({ seed: seedName(b.seed, i), measure: s.label, epoch: r.epoch, value: r.cka }))));
    const rsa = arm.baselines
      .filter((b) => b.cka?.length)
      .flatMap((b, i) => b.full.rows.map((r) => ({ seed: seedName(b.seed, i), measure: 'ρ', epoch: r.epoch, value: r.rsa })));
    const x = { field: 'epoch', type: 'quantitative', title: 'Epoch', scale: { nice: false }, axis: { tickMinStep: 1, format: 'd' } };
    const color = { field: 'seed', type: 'nominal', title: 'Baseline' };
    const panel = (measure: string, title: string, yTitle: string) => ({
      title, width: 240, height: 200,
      transform: [{ filter: { field: 'measure', equal: measure } }],
      mark: { type: 'line', point: { size: 12 } },
      encoding: { x, y: { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: false } }, color, tooltip: [{ field: 'seed' }, { field: 'epoch' }, { field: 'value', format: '.4f', title: measure }] },
    });
    return [{
      title: `${arm.model} baselines`,
      data: { values: [...values, ...rsa] },
      hconcat: [...labels.map((l) => panel(l, `CKA, ${l}`, 'CKA with human')), panel('ρ', 'RSA ρ (output)', 'RSA (Spearman ρ)')],
      resolve: { scale: { y: 'independent' } },
    }];
  });
  if (!rows.length) return null;
  return {
    id: 'fig9_cka',
    title: 'Fig 9. CKA with the human embedding along the baselines, beside RSA',
    caption:
      'Centered kernel alignment (Kornblith et al. 2019) of the model\'s output on the RSA images with the human SPoSE embedding of the same images, every epoch (cka.csv of each eval/cka task): ' +
      'linear, and RBF with the bandwidth a fraction of the median distance between stimuli, each side its own. Right: the same baselines\' RSA ρ (metrics.csv). One line per seed.',
    spec: { vconcat: rows } as TopLevelSpec,
  };
}
