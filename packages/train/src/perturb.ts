import { z } from 'zod';
import { Rng, perturbationFlagColumns, perturbationKinds, perturbationWindow, type PerturbationFlagColumn, type PerturbationKind } from '@lw/core';

/**
 * The four CLIP-HBA perturbations of method §4, as pure functions of one training batch.
 *
 * They act on training batches only, after normalisation, in the 1-based epochs
 * [start, start + length - 1]. Every draw comes from `new Rng(seed, 'perturb', type, start, batch)`:
 * like the study's per-batch seed `perturb_seed + start*1000 + batch_idx`, it is constant across the
 * window, so batch index b draws the same numbers in every epoch of a multi-epoch window.
 */
export const perturbTypes = perturbationKinds;
export type PerturbType = PerturbationKind;

/** `params.perturb` of train/behavior: the shared window (@lw/core perturbation.ts) with this arm's types. */
export const perturbSpec = perturbationWindow.extend({
  type: z.enum(perturbTypes).describe('What the window replaces (method §4)'),
  distribution: z
    .enum(['target', 'normal'])
    .default('target')
    .describe("'target': N(mean, std^2) of all training targets; 'normal': N(0, 1)"),
});
export type PerturbSpec = z.output<typeof perturbSpec>;

/** Whether 1-based `epoch` lies in the perturbation window. */
export function inWindow(spec: PerturbSpec | undefined, epoch: number): boolean {
  return spec !== undefined && epoch >= spec.start && epoch <= spec.start + spec.length - 1;
}

/** The study's CSV flags for one epoch (method §3.3; the columns are @lw/core's perturbationFlagColumns). */
export type PerturbFlags = Record<PerturbationFlagColumn, boolean>;

export function epochFlags(spec: PerturbSpec | undefined, epoch: number): PerturbFlags {
  const on = inWindow(spec, epoch) ? spec!.type : undefined;
  return Object.fromEntries(perturbationFlagColumns.map(([column, kind]) => [column, on === kind])) as PerturbFlags;
}

/** Whether the perturbation replaces images, so the frozen-prefix feature cache cannot be used. */
export function perturbsImages(type: PerturbType): boolean {
  return type === 'image_noise' || type === 'blank_image';
}

/**
 * Scalar mean and population std of a target matrix. The study's are over all 1806 x 66 entries of
 * its training CSV (train + validation items; method §2.2: 5.6906 / 10.1787 for THINGS).
 */
export function targetStats(targets: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < targets.length; i++) sum += targets[i];
  const mean = sum / targets.length;
  let ss = 0;
  for (let i = 0; i < targets.length; i++) ss += (targets[i] - mean) ** 2;
  return { mean, std: Math.sqrt(ss / targets.length) };
}

export interface TrainBatch {
  /** [B, H, W, 3] normalised */
  images: Float32Array;
  /** [B, dims] */
  targets: Float32Array;
  batchSize: number;
}

/**
 * The batch as the perturbation leaves it. Returns new arrays for what changes and the same
 * arrays for what does not (so the caller can tell whether images changed by identity).
 */
export function perturbBatch(
  batch: TrainBatch,
  spec: PerturbSpec,
  batchIndex: number,
  stats: { mean: number; std: number },
): TrainBatch {
  const rng = new Rng(spec.seed, 'perturb', spec.type, spec.start, batchIndex);
  const { mean, std } = spec.distribution === 'target' ? stats : { mean: 0, std: 1 };
  const B = batch.batchSize;
  switch (spec.type) {
    case 'random_target':
      // [B, dims] fresh i.i.d. draws replace every target
      return { ...batch, targets: rng.normals(batch.targets.length, mean, std) };
    case 'label_shuffle': {
      // row i takes the targets of row perm[i]; a permutation of the batch only
      const dims = batch.targets.length / B;
      const perm = rng.permutation(B);
      const out = new Float32Array(batch.targets.length);
      for (let i = 0; i < B; i++) out.set(batch.targets.subarray(perm[i] * dims, (perm[i] + 1) * dims), i * dims);
      return { ...batch, targets: out };
    }
    case 'image_noise':
      // [B, H, W, 3] each pixel replaced by N(mean, std^2) in normalised space
      return { ...batch, images: rng.normals(batch.images.length, mean, std) };
    case 'blank_image':
      // the study's constant 0.5 in normalised space, every pixel of every image
      return { ...batch, images: new Float32Array(batch.images.length).fill(0.5) };
  }
}
