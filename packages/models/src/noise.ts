import { Rng, rngStream, type RngPath } from '@lw/core';
import { tf } from './tf.js';
import { LW_NORMAL_NOISE, registerWebgpuNoise } from './webgpu/noise.js';

registerWebgpuNoise();

/**
 * A tensor of N(mean, std^2) draws equal to `new Rng(seed, ...path).normals(size, mean, std)`, made
 * where the tensor lives: on webgpu by one WGSL kernel (one Philox block per pair of values, no host
 * work or upload: a batch of 64 THINGS images is 9.6M values, ~1 s of host Rng), elsewhere on the host.
 * The webgpu values equal the host's to a few float32 ulps (webgpu/noise.ts says why not bit for bit);
 * both are pure functions of (seed, path), so a resumed run draws what an uninterrupted one did.
 */
export function normalNoise(shape: number[], seed: number, path: RngPath, mean = 0, std = 1): tf.Tensor {
  if (tf.getBackend() === 'webgpu') {
    const { key, counterHigh } = rngStream(seed, ...path);
    return tf.engine().runKernel(LW_NORMAL_NOISE, {}, { shape, key, counterHigh, mean, std } as unknown as tf.NamedAttrMap) as tf.Tensor;
  }
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(new Rng(seed, ...path).normals(size, mean, std), shape, 'float32');
}

/** Whether `normalNoise` runs on the device (no host draws, no upload) on the current backend. */
export function normalNoiseOnDevice(): boolean {
  return tf.getBackend() === 'webgpu';
}
