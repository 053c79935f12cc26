// The whole published design (pipelines/things-clip-hba.yaml, 201 tasks) in GPU-hours, from measured
// per-epoch and per-task times. The epoch counts are assumptions, printed with the result.

/**
 * Epochs per run. The study's logs give the sweep: 98 single-epoch random-target runs (patience 10)
 * took 4,976 epochs in all (method §8), i.e. a run from epoch E ends on average at epoch 99.3 (it
 * cannot stop before E + 10). The baseline (patience 20) stopped at 118. Types runs (patience 10)
 * end like sweep runs; length runs (patience 20) at max(E + L - 1 + 20, 109.3).
 */
export function designEpochs() {
  const sweepEnd = (4976 + (98 * 99) / 2) / 98 - 1; // 99.28: Σ_E (end - E + 1) = 4976
  const run = (E, L, patience, end) => Math.round(Math.max(E + L - 1 + patience, end) - E + 1);
  const runs = [{ name: 'baseline', cached: 118, full: 0 }];
  for (let E = 1; E <= 98; E++) runs.push({ name: `sweep E=${E}`, cached: run(E, 1, 10, sweepEnd), full: 0 });
  for (const type of ['label_shuffle', 'image_noise', 'blank_image']) for (const E of [5, 15, 25, 35, 45, 70, 98]) {
    const n = run(E, 1, 10, sweepEnd), images = type !== 'label_shuffle';
    runs.push({ name: `${type} E=${E}`, cached: images ? n - 1 : n, full: images ? 1 : 0, type });
  }
  for (const E of [1, 2, 3, 6, 7, 8, 10, 40, 70, 80, 90]) for (const L of [2, 5, 10, 20, 30, 40, 50]) runs.push({ name: `lengths E=${E} L=${L}`, cached: run(E, L, 20, sweepEnd + 10), full: 0 });
  const assumptions = [
    'baseline: 118 epochs (the study stopped at 118: minimum at 98 + patience 20)',
    `sweep: 98 runs, 4,976 epochs (the study's logs), i.e. each run from its start E to epoch ${sweepEnd.toFixed(1)} on average, at least 11 epochs`,
    `types: 21 runs (3 types x 7 starts) ending like sweep runs; image_noise/blank_image runs have 1 full-forward epoch each, the rest cached`,
    `lengths: 77 runs ending at max(E + L - 1 + 20, ${(sweepEnd + 10).toFixed(1)}) (patience 20), all cached (random targets)`,
    'one task per run plus data, import, features and report once; every epoch at the measured s/epoch of its kind; per-task overhead as measured',
  ];
  return { runs, assumptions };
}

/** GPU-hours on one GPU at 1 task at a time, and wall hours with k tasks sharing it at the measured speed-up. */
export function project({ cachedEpoch, fullEpoch, taskOverhead, fixedSeconds, speedups = {} }) {
  const { runs, assumptions } = designEpochs();
  const epochs = runs.reduce((a, r) => a + r.cached + r.full, 0);
  const full = runs.reduce((a, r) => a + r.full, 0);
  const seconds = (c, f, o) => fixedSeconds + runs.reduce((a, r) => a + r.cached * c + r.full * f + o, 0);
  const one = (p) => seconds(cachedEpoch[p], fullEpoch[p], taskOverhead[p]) / 3600;
  const out = {
    tasks: runs.length + 4, epochs, fullForwardEpochs: full, assumptions,
    gpuHours: { typical: one(1), low: one(0), high: one(2) },
  };
  out.wallHours = Object.fromEntries(Object.entries(speedups).map(([k, s]) => [k, { typical: out.gpuHours.typical / s, low: out.gpuHours.low / s, high: out.gpuHours.high / s }]));
  return out;
}
