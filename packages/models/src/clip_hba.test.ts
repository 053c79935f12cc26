import { describe, expect, it } from 'vitest';
import { Clip, createClip, createClipHba, modelConfig, ParamStore, tf } from './index.js';

const cfg = modelConfig('test-clip');
const ctx = cfg.text.contextLength;

/** Two prompts of [start, word, end] with the end id largest, as the tokenizers produce. */
function prompts(P: number): Int32Array {
  const t = new Int32Array(P * ctx);
  for (let p = 0; p < P; p++) t.set([1, 3 + (p % 10), cfg.text.vocabSize - 1], p * ctx);
  return t;
}

describe('CLIP-HBA', () => {
  it('predicts [B, P] in [-exp(logit_scale), exp(logit_scale)] and the prefix path gives the same', () => {
    const clip = createClip(cfg, { seed: 3 });
    const hba = createClipHba(clip, { visionDoraBlocks: [1], textDoraBlocks: [1], rank: 4, alpha: 2, seed: 1, prompts: prompts(5) });
    tf.tidy(() => {
      const images = tf.tensor4d(new Rng01(7).take(2 * 8 * 8 * 3), [2, 8, 8, 3]);
      const full = hba.predict(images);
      expect(full.shape).toEqual([2, 5]);
      const bound = Math.exp(Math.log(1 / 0.07));
      for (const v of full.dataSync()) expect(Math.abs(v)).toBeLessThanOrEqual(bound + 1e-3);
      const viaPrefix = hba.predictFromPrefix(hba.visionPrefix(images), hba.textPrefix());
      expect(Array.from(viaPrefix.dataSync())).toEqual(Array.from(full.dataSync()));
    });
    hba.dispose();
    clip.dispose();
  });

  it('gives the prefix path the full path\'s gradients with DoRA in consecutive blocks (the first skips its input gradient)', () => {
    const clip = createClip(cfg, { seed: 5 });
    const hba = createClipHba(clip, { visionDoraBlocks: [0, 1], textDoraBlocks: [0, 1], rank: 4, alpha: 2, seed: 2, prompts: prompts(3) });
    const images = tf.tensor4d(new Rng01(9).take(2 * 8 * 8 * 3), [2, 8, 8, 3]);
    const vars = [...hba.trainable.values()];
    const vp = hba.visionPrefix(images), tp = hba.textPrefix();
    const viaPrefix = tf.variableGrads(() => tf.mean(tf.square(hba.predictFromPrefix(vp, tp))) as tf.Scalar, vars).grads;
    const full = tf.variableGrads(() => tf.mean(tf.square(hba.predict(images))) as tf.Scalar, vars).grads;
    expect(Object.keys(viaPrefix)).toHaveLength(12);
    for (const v of vars) {
      const a = viaPrefix[v.name].dataSync(), b = full[v.name].dataSync();
      const scale = Math.max(...Array.from(b, Math.abs));
      expect(scale, v.name).toBeGreaterThan(0);
      expect(Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i]))) / scale, v.name).toBeLessThan(1e-5);
    }
    hba.dispose();
    clip.dispose();
  });

  it('has gradients for exactly m, delta_D_A, delta_D_B of each DoRA layer', () => {
    const clip = createClip(cfg, { seed: 3 });
    const hba = createClipHba(clip, { visionDoraBlocks: [1], textDoraBlocks: [1], rank: 4, alpha: 2, seed: 1, prompts: prompts(3) });
    const images = tf.tensor4d(new Rng01(8).take(2 * 8 * 8 * 3), [2, 8, 8, 3]);
    const vp = hba.visionPrefix(images), tp = hba.textPrefix();
    const { grads } = tf.variableGrads(() => tf.mean(tf.square(hba.predictFromPrefix(vp, tp))) as tf.Scalar, [...hba.trainable.values()]);
    expect(Object.keys(grads)).toHaveLength(6);
    for (const g of Object.values(grads)) expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
    expect([...hba.trainable.keys()]).toEqual([
      'clip_model.visual.transformer.resblocks.1.attn.out_proj.m',
      'clip_model.visual.transformer.resblocks.1.attn.out_proj.delta_D_A',
      'clip_model.visual.transformer.resblocks.1.attn.out_proj.delta_D_B',
      'clip_model.transformer.resblocks.1.attn.out_proj.m',
      'clip_model.transformer.resblocks.1.attn.out_proj.delta_D_A',
      'clip_model.transformer.resblocks.1.attn.out_proj.delta_D_B',
    ]);
    hba.dispose();
    clip.dispose();
  });

  it('trains exactly 183,040 parameters on ViT-L/14 with DoRA on vision 22-23 and text 11 (method §1.2)', () => {
    const l14 = modelConfig('clip-vit-l14');
    // Only the three wrapped out_proj weights are read when DoRA is attached.
    const weights = new Map<string, tf.Tensor>([
      ['visual.transformer.resblocks.22.attn.out_proj.weight', tf.randomNormal([1024, 1024])],
      ['visual.transformer.resblocks.23.attn.out_proj.weight', tf.randomNormal([1024, 1024])],
      ['transformer.resblocks.11.attn.out_proj.weight', tf.randomNormal([768, 768])],
    ]);
    const clip = new Clip(l14, new ParamStore(weights));
    const hba = createClipHba(clip, { visionDoraBlocks: [22, 23], textDoraBlocks: [11], rank: 32, alpha: 16, seed: 1, prompts: new Int32Array(66 * 77) });
    let n = 0;
    for (const v of hba.trainable.values()) n += v.size;
    expect(n).toBe(183_040);
    hba.dispose();
    clip.dispose();
  });
});

/** Deterministic test inputs in [-1, 1) (a tiny LCG, independent of the code under test). */
class Rng01 {
  constructor(private s: number) {}
  take(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      this.s = (Math.imul(this.s, 1664525) + 1013904223) >>> 0;
      out[i] = this.s / 2 ** 31 - 1;
    }
    return out;
  }
}
