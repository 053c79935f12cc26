// Reduced copies of pipelines/things-clip-hba.yaml: the same stages, params and inputs, with fewer
// matrix values and epochs, so one GPU call runs every stage and every perturbation type.
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';

/**
 * `baselineEpochs` for the baseline; every perturbation task resumes from baseline@epoch(start - 1) as in
 * the study and runs its window plus `after` clean epochs. One task per type at epoch `start`.
 */
export function reducedStudy(source, out, { baselineEpochs = 30, start = 2, after = 1 } = {}) {
  const doc = parse(readFileSync(source, 'utf8'));
  const s = doc.stages;
  s.baseline.params.epochs = baselineEpochs;
  s.sweep.matrix = { start: [start] };
  s.sweep.params.epochs = `\${start + ${after}}`;
  s.types.matrix = { type: ['label_shuffle', 'image_noise', 'blank_image'], start: [start] };
  s.types.params.epochs = `\${start + ${after}}`;
  s.lengths.matrix = { start: [start], length: [2] };
  s.lengths.params.epochs = `\${start + length - 1 + ${after}}`;
  writeFileSync(out, '# yaml-language-server: $schema=./schema.json\n# bench/study-gpu: a reduced copy of pipelines/things-clip-hba.yaml\n' + stringify(doc));
  return out;
}

/**
 * The concurrency probe: random-target tasks (distinct perturbation seeds, so distinct cache
 * keys) resumed from the reduced study's baseline, `epochs` cached epochs each after the window; the
 * same shape as the study's sweep tasks. Run with LW_TASKS_PER_GPU=1, 2, 4 (one stage per level): the
 * local executor's GPU slots set how many share the GPU.
 */
export function concurrencyStudy(source, out, { levels = [1, 2, 4], start = 2, epochs = 4 } = {}) {
  const doc = parse(readFileSync(source, 'utf8'));
  const s = doc.stages;
  const keep = { data: s.data, clip: s.clip, features: s.features, baseline: s.baseline };
  for (const k of levels) {
    // max(4, 2k) tasks: at k at a time each worker process runs at least two, so the levels compare like
    // with like (a worker's second task finds the model and the cache resident).
    keep[`conc${k}`] = {
      uses: 'train/behavior',
      resources: { gpus: 1 },
      matrix: { rep: Array.from({ length: Math.max(4, 2 * k) }, (_, i) => 1000 * k + i) },
      inputs: { data: 'data', model: 'clip', features: 'features', resume: `baseline@epoch(${start - 1})` },
      params: {
        epochs: start + epochs - 1, patience: 10, seed: '${seed}', backend: '${backend}',
        perturb: { type: 'random_target', start, length: 1, seed: '${rep}' },
      },
    };
  }
  doc.stages = keep;
  writeFileSync(out, '# bench/study-gpu: concurrency probe on the reduced study\n' + stringify(doc));
  return out;
}
