import { normalNoise, tf } from '@lw/models';
import type { PerturbSpec } from './perturb.js';

/**
 * The images of a training batch under an image perturbation (image_noise, blank_image), made as a
 * tensor where training runs instead of on the host: on webgpu the noise is one kernel (9.6M draws per
 * batch of 64 THINGS images took ~1 s of host Rng plus a 38 MB upload) and the blank images one fill.
 *
 * The same function of (seed, type, start, batch) as `perturbBatch(...).images`: the same stream
 * `Rng(seed, 'perturb', type, start, batch)` and the same moments (the study's target statistics, or
 * N(0, 1) with distribution 'normal'). Off webgpu the values are perturbBatch's exactly; on webgpu equal
 * to float32 rounding (@lw/models normalNoise). perturb-device.test.ts checks both against perturbBatch.
 * Returns [B, H, W, 3]; the caller disposes it.
 */
export function perturbedImages(spec: PerturbSpec, batchIndex: number, stats: { mean: number; std: number }, shape: [number, number, number, number]): tf.Tensor4D {
  switch (spec.type) {
    case 'image_noise': {
      const { mean, std } = spec.distribution === 'target' ? stats : { mean: 0, std: 1 };
      return normalNoise(shape, spec.seed, ['perturb', spec.type, spec.start, batchIndex], mean, std) as tf.Tensor4D;
    }
    case 'blank_image':
      return tf.fill(shape, 0.5, 'float32') as tf.Tensor4D;
    default:
      throw new Error(`perturbedImages: ${spec.type} does not replace images`);
  }
}
