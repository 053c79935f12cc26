import type { Baseline } from './effects.js';
import type { Run } from './runs.js';

/**
 * Per-layer effect of a perturbation on alignment: the run's layer-wise ρ minus its own seed's
 * baseline's ρ at the same epoch and layer (layer_rsa of both), at the last perturbed epoch and at
 * the run's last epoch (where its baseline has that epoch too).
 */
export interface LayerEffect {
  model: string;
  run: string;
  seed: number | null;
  type: string;
  start: number;
  length: number;
  layer: number;
  layer_name: string;
  /** The last perturbed epoch (start + length - 1). */
  epoch: number;
  delta_rsa: number;
  /** The run's last epoch with a baseline row of the same layer; null when the baseline is shorter. */
  end_epoch: number | null;
  delta_rsa_end: number | null;
}

/** Empty unless both the run and its baseline have layer_rsa; layers matched by index and name. */
export function layerEffectsOf(model: string, run: Run, baseline: Baseline): LayerEffect[] {
  const runRows = run.measures?.layers, baseRows = baseline.measures?.layers;
  if (!runRows || !baseRows) return [];
  const key = (epoch: number, layer: number, name: string) => `${epoch}|${layer}|${name}`;
  const base = new Map(baseRows.map((r) => [key(r.epoch, r.layer, r.layer_name), r.rsa_rho]));
  const { type, start, length, seed } = run.condition;
  const epoch = start + length - 1;
  const out: LayerEffect[] = [];
  for (const r of runRows.filter((x) => x.epoch === epoch)) {
    const b = base.get(key(epoch, r.layer, r.layer_name));
    if (b === undefined) continue;
    // The run's last epoch that its baseline also has, for this layer.
    const ends = runRows.filter((x) => x.layer === r.layer && x.layer_name === r.layer_name && base.has(key(x.epoch, x.layer, x.layer_name)));
    const end = ends.length ? ends.reduce((a, x) => (x.epoch > a.epoch ? x : a)) : null;
    out.push({
      model, run: run.name, seed, type, start, length, layer: r.layer, layer_name: r.layer_name, epoch,
      delta_rsa: r.rsa_rho - b,
      end_epoch: end?.epoch ?? null,
      delta_rsa_end: end ? end.rsa_rho - base.get(key(end.epoch, end.layer, end.layer_name))! : null,
    });
  }
  return out;
}
