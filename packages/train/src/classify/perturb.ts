import { z } from 'zod';
import { Rng, perturbationWindow, vitPerturbationKinds, type VitPerturbationType } from '@lw/core';

/**
 * The ViT arm's single-epoch perturbations (method §7.3), all seeded (study: 42):
 * - `gaussian`: each training image replaced by N(0, 0.1^2) per pixel in normalised space;
 * - `uniform_gray`: every pixel 0 in normalised space (the ImageNet mean colour);
 * - `label_shuffle`: one fixed dataset-wide permutation of the labels (sample r takes the label of
 *   sample perm[r]), the same whatever the batch;
 * - `target_noise`: fixed uniform random labels in 0..C-1, one per sample.
 * Image draws come from `Rng(seed, 'vit-perturb', type, epoch, batch)`; label tables from
 * `Rng(seed, 'vit-perturb', type)` over the training split's stored rows.
 */
export const vitPerturbTypes = Object.keys(vitPerturbationKinds) as [VitPerturbationType, ...VitPerturbationType[]];
export type VitPerturbType = VitPerturbationType;

/**
 * `params.perturb` of train/classify: the shared window (@lw/core perturbation.ts) with the ViT's
 * type names. A measurement trains one epoch, so the length is 1, and the start is the resume
 * checkpoint's epoch + 1 (checked by the loop, which knows the checkpoint).
 */
export const vitPerturbSpec = perturbationWindow.extend({
  type: z.enum(vitPerturbTypes).describe('The study\'s names: gaussian (image noise), uniform_gray (blank image), label_shuffle, target_noise (random targets)'),
  length: z
    .number()
    .int()
    .default(1)
    .refine((n) => n === 1, 'a ViT measurement trains one epoch (method §7.3): length must be 1')
    .describe('Perturbed epochs: always 1'),
  /** Std of the gaussian images (method: epsilon = 0.1). */
  std: z.number().positive().default(0.1),
});
export type VitPerturbSpec = z.output<typeof vitPerturbSpec>;

/** The fixed per-sample label table of a label perturbation: labels[r] for every stored row r. */
export function perturbedLabelTable(spec: VitPerturbSpec, labels: Int32Array, numClasses: number): Int32Array {
  const rng = new Rng(spec.seed, 'vit-perturb', spec.type);
  if (spec.type === 'label_shuffle') {
    const perm = rng.permutation(labels.length);
    return Int32Array.from(perm, (src) => labels[src]);
  }
  if (spec.type === 'target_noise') return Int32Array.from(labels, () => rng.int(numClasses));
  throw new Error(`${spec.type} does not change labels`);
}

/** The batch as the perturbation leaves it (new arrays for what changes). */
export function perturbVitBatch(
  batch: { images: Float32Array; labels: Int32Array; rows: Int32Array },
  spec: VitPerturbSpec,
  epoch: number,
  batchIndex: number,
  labelTable?: Int32Array,
): { images: Float32Array; labels: Int32Array } {
  switch (spec.type) {
    case 'gaussian':
      return { images: new Rng(spec.seed, 'vit-perturb', spec.type, epoch, batchIndex).normals(batch.images.length, 0, spec.std), labels: batch.labels };
    case 'uniform_gray':
      return { images: new Float32Array(batch.images.length), labels: batch.labels };
    case 'label_shuffle':
    case 'target_noise':
      if (!labelTable) throw new Error(`${spec.type} needs the label table`);
      return { images: batch.images, labels: Int32Array.from(batch.rows, (r) => labelTable[r]) };
  }
}
