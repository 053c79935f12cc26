import type { Arm, Results } from './analyze.js';
import { signed } from './findings.js';
import { groupBy } from './summary.js';

/**
 * Sentences on the per-epoch measures of one model arm, for the findings (each only where the runs
 * have the files): which layer's ρ a perturbation moves most (Fig 7), and how the baselines' Fisher
 * trace evolves (Fig 8).
 */
export function measureNotes(arm: Arm, results: Results): string[] {
  const notes: string[] = [];
  const effects = results.layerEffects.filter((e) => e.model === arm.model);
  if (effects.length) {
    const layers = groupBy(effects, (e) => ({ layer: e.layer, name: e.layer_name }))
      .sort((a, b) => a.key.layer - b.key.layer)
      .map((g) => ({ name: g.key.name, at: mean(g.items.map((e) => e.delta_rsa)), end: mean(g.items.flatMap((e) => (e.delta_rsa_end === null ? [] : [e.delta_rsa_end]))) }));
    const most = layers.reduce((a, l) => (Math.abs(l.at) > Math.abs(a.at) ? l : a));
    const runs = new Set(effects.map((e) => e.run)).size;
    notes.push(
      `Layer-wise RSA (Fig 7, layer_effects.csv): at the last perturbed epoch, averaged over ${runs} runs, ρ moves most at ${most.name} (mean Δρ ${signed(most.at, 'rsa')}); ` +
      `by layer ${layers.map((l) => `${l.name} ${signed(l.at, 'rsa')}`).join(', ')}; by the runs' last epochs ${most.name} is at ${Number.isNaN(most.end) ? 'no common epoch' : signed(most.end, 'rsa')}.`,
    );
  }
  const fisher = arm.baselines.flatMap((b) => b.measures?.fisher ?? []);
  if (fisher.length) {
    const byEpoch = groupBy(fisher, (f) => f.epoch).sort((a, b) => a.key - b.key).map((g) => ({ epoch: g.key, trace: mean(g.items.map((f) => f.fisher_trace)) }));
    const peak = byEpoch.reduce((a, x) => (x.trace > a.trace ? x : a));
    const last = byEpoch.at(-1)!;
    const probe = [...new Set(fisher.map((f) => f.fisher_probe))].join(', ');
    notes.push(
      `Fisher information (Fig 8, probe of ${probe} training items): the baselines' mean trace peaks at epoch ${peak.epoch} (${peak.trace.toPrecision(3)}) ` +
      `and is ${last.trace.toPrecision(3)} at epoch ${last.epoch}${peak.epoch !== last.epoch ? `, ${(peak.trace / last.trace).toPrecision(2)}× lower` : ''}.`,
    );
  }
  return notes;
}

function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}
