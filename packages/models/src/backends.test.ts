import { describe, expect, it } from 'vitest';
import { BackendName, backendUsesGpu, blockSpecs, blockWeights, createClip, createClipHba, createVitClassifier, initBackend, initParams, modelConfig, residualBlock, tf, vitBlockNames, wasmThreadCount } from './index.js';
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

  // One tiny-clip-sized ViT block (width 64, 4 heads, 65 tokens, batch 8), every weight trainable:
  // its [520, 64] x [64, 256] matMuls are large enough for XNNPACK to split them across threads.
  const names = vitBlockNames('clip', 'visual.', 0);
  const params = initParams(blockSpecs('clip', names, 64, 256, 4), 7, true);
  const x = tf.tensor3d(lcg(4, 8 * 65 * 64), [8, 65, 64]);
  const bvars = [...params.tensors.values()] as tf.Variable[];
  const b = tf.variableGrads(() => {
    const y = residualBlock(x, blockWeights(params, names), { heads: 4, lnEps: 1e-5, activation: 'quick_gelu' });
    out.block_out = y.dataSync() as Float32Array;
    return tf.sum(tf.square(y)) as tf.Scalar;
  }, bvars);
  [...params.tensors.keys()].forEach((name, i) => (out[`block_grad ${name}`] = b.grads[bvars[i].name].dataSync() as Float32Array));
  params.dispose();
  return out;
}

/** Asserts that every output of `got` is within 1e-5 of `ref`, relative to the tensor's largest value. */
function expectClose(got: Record<string, Float32Array>, ref: Record<string, Float32Array>): void {
  expect(Object.keys(got)).toEqual(Object.keys(ref));
  for (const key of Object.keys(ref)) {
    const scale = Math.max(1e-12, ...Array.from(ref[key], Math.abs));
    const a = Array.from(got[key], (v) => v / scale), b = Array.from(ref[key], (v) => v / scale);
    expect(maxRelErr(a, b), key).toBeLessThan(1e-5);
  }
}

describe('backends agree', () => {
  it('cpu, single-thread wasm and 2-thread wasm give the same forward and gradients within 1e-5 relative', async () => {
    await initBackend({ backend: 'cpu' });
    const ref = run();
    const one = await initBackend({ backend: 'wasm', threads: 1 });
    expect(tf.getBackend()).toBe('wasm');
    expect(one.threads).toBe(1);
    expectClose(run(), ref);
    // Asking the running wasm backend for another count restarts it with the threaded binary.
    const two = await initBackend({ backend: 'wasm', threads: 2 });
    expect(two.threads).toBe(2);
    expect(two.fallback).toBeUndefined();
    expectClose(run(), ref);
    await initBackend({ backend: 'cpu' });
  });

  it('falls back to the single-thread wasm binary when threads cannot start', async () => {
    const sab = globalThis.SharedArrayBuffer;
    // Without SharedArrayBuffer there is no shared wasm memory, so no pthreads.
    Object.defineProperty(globalThis, 'SharedArrayBuffer', { value: undefined, configurable: true, writable: true });
    try {
      const info = await initBackend({ backend: 'wasm', threads: 3 });
      expect(info.threads).toBe(1);
      expect(info.fallback).toMatch(/SharedArrayBuffer/);
      expect(tf.sum(tf.tensor1d([1, 2, 3.5])).dataSync()[0]).toBe(6.5);
    } finally {
      Object.defineProperty(globalThis, 'SharedArrayBuffer', { value: sab, configurable: true, writable: true });
    }
    await initBackend({ backend: 'cpu' });
  });

  it('a forced backend that cannot start is a UserError', async () => {
    await expect(initBackend({ backend: 'tensorflow' })).rejects.toThrow(/backend "tensorflow" could not start/);
    await expect(initBackend({ backend: 'bogus' as never })).rejects.toThrow(/unknown backend "bogus"/);
  });
});

describe('wasmThreadCount', () => {
  it('takes the option, else LW_WASM_THREADS, else 1, and rejects what is not a count', () => {
    expect(wasmThreadCount(3, { LW_WASM_THREADS: '5' })).toBe(3);
    expect(wasmThreadCount(undefined, { LW_WASM_THREADS: '5' })).toBe(5);
    expect(wasmThreadCount(undefined, {})).toBe(1);
    expect(() => wasmThreadCount(undefined, { LW_WASM_THREADS: 'two' })).toThrow(/env LW_WASM_THREADS is "two", not a thread count/);
    expect(() => wasmThreadCount(0)).toThrow(/option threads is 0/);
  });

  it('takes a task\'s share of the cores only where neither the option nor LW_WASM_THREADS (the user\'s override) says a count', () => {
    expect(wasmThreadCount(undefined, {}, 4)).toBe(4);
    expect(wasmThreadCount(undefined, { LW_WASM_THREADS: '' }, 4)).toBe(4);
    expect(wasmThreadCount(undefined, { LW_WASM_THREADS: '2' }, 4)).toBe(2);
    expect(wasmThreadCount(3, { LW_WASM_THREADS: '2' }, 4)).toBe(3);
    expect(() => wasmThreadCount(undefined, {}, 0)).toThrow(/option taskThreads is 0/);
  });
});

describe('backendUsesGpu', () => {
  it('is true for webgpu only', () => {
    expect(BackendName.options.filter(backendUsesGpu)).toEqual(['webgpu']);
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
