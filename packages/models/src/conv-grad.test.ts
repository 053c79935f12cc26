import { describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { conv2dIm2colGrad, hasConvFilterGrad } from './conv-grad.js';
import { tf } from './tf.js';

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('conv2d with an im2col filter gradient', () => {
  // [kernel, stride, padded input side]: ResNet's 7x7/2 stem, 3x3/1 and 3x3/2 convs, 1x1/2 projections;
  // side 10 at stride 2 with a 3x3 kernel leaves the last row unused, as PyTorch's floor does.
  for (const [k, s, side] of [[7, 2, 17], [3, 1, 9], [3, 2, 10], [1, 2, 8]] as const) {
    it(`equals tfjs' own conv2d value and gradients (cpu): ${k}x${k} stride ${s} on ${side}x${side}`, async () => {
      await initBackend({ backend: 'cpu' });
      expect(hasConvFilterGrad()).toBe(true);
      const x = tf.randomNormal([2, side, side, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const w = tf.randomNormal([k, k, 3, 5], 0, 1, 'float32', 2) as tf.Tensor4D;
      const up = tf.randomNormal([2, Math.floor((side - k) / s) + 1, Math.floor((side - k) / s) + 1, 5], 0, 1, 'float32', 3);
      // a weighted sum, so every output position's gradient differs
      const loss = (f: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor4D) => (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D), up));
      const ref = tf.grads(loss((a, b) => tf.conv2d(a, b, s, 'valid')))([x, w]);
      const got = tf.grads(loss((a, b) => conv2dIm2colGrad(a, b, s)))([x, w]);
      expect(maxAbs(conv2dIm2colGrad(x, w, s).dataSync(), tf.conv2d(x, w, s, 'valid').dataSync())).toBe(0);
      expect(maxAbs(got[0].dataSync(), ref[0].dataSync())).toBeLessThan(1e-4);
      expect(maxAbs(got[1].dataSync(), ref[1].dataSync())).toBeLessThan(1e-4);
    });
  }

  it('is what a trainable ResNet conv uses on wasm (no Conv2DBackpropFilter kernel there)', async () => {
    await initBackend({ backend: 'wasm' });
    expect(hasConvFilterGrad()).toBe(false);
    const w = tf.variable(tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2));
    const x = tf.randomNormal([1, 6, 6, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const { grads } = tf.variableGrads(() => tf.sum(conv2dIm2colGrad(x, w as unknown as tf.Tensor4D, 1)), [w]);
    expect(grads[w.name].shape).toEqual([3, 3, 3, 4]);
  });
});
