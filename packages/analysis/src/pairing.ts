import { UserError } from '@lw/core';
import type { Baseline } from './effects.js';
import type { Run } from './runs.js';

/**
 * The baseline a run is compared with: the one of its own training seed, because a perturbed run
 * resumes from its seed's baseline and differs from the others' by seed noise as well. A study run
 * without a seed, or a baseline without one, pairs only when the arm has a single baseline.
 */
export function baselineFor(baselines: Baseline[], run: Run): Baseline {
  const seed = run.condition.seed;
  if (baselines.length === 1 && (seed === null || baselines[0]!.seed === null)) return baselines[0]!;
  const seeds = baselines.map((b) => (b.seed === null ? 'none' : String(b.seed))).join(', ');
  if (seed === null) {
    throw new UserError(`the run has no seed, so it cannot be paired with one of ${baselines.length} baselines (seeds ${seeds})`, 'give the run its params.seed (or a baselineseed{S} folder name)');
  }
  const match = baselines.find((b) => b.seed === seed);
  if (!match) throw new UserError(`no baseline has its seed ${seed} (baseline seeds: ${seeds})`, 'add the baseline of that seed to the baseline input');
  return match;
}

/** Two baselines of one seed would make the pairing ambiguous. */
export function checkBaselineSeeds(model: string, baselines: Baseline[]): void {
  const seen = new Map<string, Baseline>();
  for (const b of baselines) {
    const key = String(b.seed);
    const other = seen.get(key);
    if (other) throw new UserError(`${model}: two baselines with seed ${key}: ${other.full.file} and ${b.full.file}`, 'give each seed one baseline');
    seen.set(key, b);
  }
}
