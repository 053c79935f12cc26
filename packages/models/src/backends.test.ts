import { describe, expect, it } from 'vitest';
import { createClip, createClipHba, createVitClassifier, initBackend, modelConfig, tf } from './index.js';
import { lcg, maxRelErr } from './test_util.js';

/** Forward outputs and gradients of a tiny ViT classifier and a tiny CLIP-HBA, as plain arrays. */
function run(): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  const vitCfg = modelConfig('test-vit');
  const vit = createVitClassifier(vitCfg, { seed: 5 });
  const s = vitCfg.vision.imageSize;
  const images = tf.tensor4d(lcg(1, 3 * s * s * 3), [3, s, s, 3]);
  const labels = tf.oneHot(tf.tensor1d([0, 3, 4], 'int32'), vitCfg.numClasses);
  const vars = [...vit.variables.values()];
  const { value, grads } = tf.variableGrads(() => {
    const { logits } = vit.forward(images);
    out.vit_logits = logits.dataSync() as Float32Array;
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  }, vars);
  out.vit_loss = value.dataSync() as Float32Array;
  [...vit.variables.keys()].forEach((name, i) => (out[`vit_grad ${name}`] = grads[vars[i].name].dataSync() as Float32Array));

  const clipCfg = modelConfig('test-clip');
  const clip = createClip(clipCfg, { seed: 6 });
  const ctx = clipCfg.text.contextLength;
  const prompts = new Int32Array(3 * ctx);
  [[1, 4, 19], [1, 7, 8, 19], [1, 19]].forEach((row, p) => prompts.set(row, p * ctx));
  // DoRA in block 0 too, so gradients flow back through block 1's frozen layers.
  const hba = createClipHba(clip, { visionDoraBlocks: [0, 1], textDoraBlocks: [0, 1], rank: 4, alpha: 2, seed: 1, prompts });
  const cimages = tf.tensor4d(lcg(2, 2 * 8 * 8 * 3), [2, 8, 8, 3]);
  const targets = tf.tensor2d(lcg(3, 6), [2, 3]);
  const tv = [...hba.trainable.values()];
  const r = tf.variableGrads(() => {
    const pred = hba.predict(cimages);
    out.hba_pred = pred.dataSync() as Float32Array;
    return tf.losses.meanSquaredError(targets, pred) as tf.Scalar;
  }, tv);
  [...hba.trainable.keys()].forEach((name, i) => (out[`hba_grad ${name}`] = r.grads[tv[i].name].dataSync() as Float32Array));
  out.text = hba.clip.encodeText(prompts).dataSync() as Float32Array;
  hba.dispose();
  clip.dispose();
  vit.dispose();
  return out;
}

describe('backends agree', () => {
  it('cpu and wasm give the same forward and gradients within 1e-5 relative', async () => {
    await initBackend({ backend: 'cpu' });
    const ref = run();
    await initBackend({ backend: 'wasm' });
    expect(tf.getBackend()).toBe('wasm');
    const got = run();
    expect(Object.keys(got)).toEqual(Object.keys(ref));
    for (const key of Object.keys(ref)) {
      // Gradients are compared relative to the largest gradient of the tensor.
      const scale = Math.max(1e-12, ...Array.from(ref[key], Math.abs));
      const a = Array.from(got[key], (v) => v / scale), b = Array.from(ref[key], (v) => v / scale);
      expect(maxRelErr(a, b), key).toBeLessThan(1e-5);
    }
    await initBackend({ backend: 'cpu' });
  });

  it('a forced backend that cannot start is a UserError', async () => {
    await expect(initBackend({ backend: 'tensorflow' })).rejects.toThrow(/backend "tensorflow" could not start/);
    await expect(initBackend({ backend: 'bogus' as never })).rejects.toThrow(/unknown backend "bogus"/);
  });
});

describe('vulkanLoaderPresent', () => {
  it('finds libvulkan.so.1 through LD_LIBRARY_PATH and not where it is absent', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { vulkanLoaderPresent } = await import('./backend.js');
    const dir = mkdtempSync(join(tmpdir(), 'lw-vk-'));
    writeFileSync(join(dir, 'libvulkan.so.1'), '');
    expect(vulkanLoaderPresent({ LD_LIBRARY_PATH: `/nonexistent:${dir}` })).toBe(true);
  });
});
