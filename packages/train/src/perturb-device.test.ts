import { describe, expect, it } from 'vitest';
import { initBackend } from '@lw/models';
import { perturbBatch, perturbSpec, type TrainBatch } from './perturb.js';
import { perturbedImages } from './perturb-device.js';

// The device path must stay the same function as perturbBatch: if either changes its stream or its
// moments, this fails. (On webgpu the kernel's values are compared with Rng.normals by webgpu/parity.ts.)
describe('perturbedImages (device images of image perturbations)', () => {
  const B = 3, H = 5, W = 4;
  const clean: TrainBatch = { images: new Float32Array(B * H * W * 3).fill(-1), targets: new Float32Array(B * 66), batchSize: B };
  const stats = { mean: 5.6906, std: 10.1787 };
  it.each([
    { type: 'image_noise', distribution: 'target' },
    { type: 'image_noise', distribution: 'normal' },
    { type: 'blank_image', distribution: 'target' },
  ] as const)('$type ($distribution) equals perturbBatch(...).images exactly off webgpu', async ({ type, distribution }) => {
    await initBackend({ backend: 'cpu' });
    const spec = perturbSpec.parse({ type, start: 7, seed: 42, distribution });
    for (const batchIndex of [0, 5]) {
      const want = perturbBatch(clean, spec, batchIndex, stats).images;
      const got = perturbedImages(spec, batchIndex, stats, [B, H, W, 3]);
      expect(got.shape).toEqual([B, H, W, 3]);
      expect(await got.data()).toEqual(want);
      got.dispose();
    }
  });
  it('refuses target perturbations', async () => {
    await initBackend({ backend: 'cpu' });
    expect(() => perturbedImages(perturbSpec.parse({ type: 'label_shuffle', start: 1 }), 0, stats, [1, 1, 1, 3])).toThrow(/does not replace images/);
  });
});
