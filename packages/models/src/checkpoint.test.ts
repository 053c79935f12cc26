import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDora, doraWeight, linear, loadClip, loadVit, modelConfig, readSafetensors, tf, toFloat32 } from './index.js';
import { makeReferenceFixtures, maxRelErr, pythonWithTorch } from './test_util.js';

// Fixtures and expected outputs come from PyTorch (fixtures/reference.py), written by its own
// safetensors writer: an independent check of the reader, the key maps and the architectures.
const python = pythonWithTorch();
let dir = '';
let expected: ReturnType<typeof readSafetensors>;

describe.skipIf(!python)('checkpoints against the PyTorch reference', () => {
  beforeAll(() => {
    dir = makeReferenceFixtures(python!);
    expected = readSafetensors(join(dir, 'expected.safetensors'));
  });
  const exp = (name: string) => toFloat32(expected.read(name));

  it('loads the OpenAI and Hugging Face layouts of one CLIP into identical parameters', () => {
    const cfg = modelConfig('test-clip');
    const a = loadClip(cfg, join(dir, 'clip_openai.safetensors'));
    const b = loadClip(cfg, join(dir, 'clip_hf.safetensors'));
    expect([...a.params.tensors.keys()].sort()).toEqual([...b.params.tensors.keys()].sort());
    for (const [name, t] of a.params.tensors) {
      expect(Array.from(b.params.get(name).dataSync()), name).toEqual(Array.from(t.dataSync()));
    }
    a.dispose();
    b.dispose();
  });

  it('CLIP image features, text features (EOT) and logits match PyTorch', () => {
    const cfg = modelConfig('test-clip');
    const clip = loadClip(cfg, join(dir, 'clip_hf.safetensors'));
    const s = cfg.vision.imageSize;
    tf.tidy(() => {
      const images = tf.tensor4d(exp('images'), [3, s, s, 3]);
      const tokens = expected.read('tokens').data as Int32Array;
      const img = clip.encodeImage(images), txt = clip.encodeText(tokens);
      expect(maxRelErr(img.dataSync(), exp('image_features'))).toBeLessThan(1e-5);
      expect(maxRelErr(txt.dataSync(), exp('text_features'))).toBeLessThan(1e-5);
      expect(maxRelErr(clip.logits(img, txt).dataSync(), exp('logits'))).toBeLessThan(1e-4);
      // Without the longest prompt the tower runs on fewer positions (L = 5 of 6): still exact.
      const ctx = cfg.text.contextLength, keep = [0, 1, 3];
      const short = new Int32Array(keep.length * ctx);
      keep.forEach((r, i) => short.set(tokens.subarray(r * ctx, (r + 1) * ctx), i * ctx));
      const all = exp('text_features'), E = cfg.embedDim;
      const want = keep.flatMap((r) => Array.from(all.subarray(r * E, (r + 1) * E)));
      expect(clip.text.textBlockInput(short, 0).shape).toEqual([3, 5, cfg.text.width]);
      expect(maxRelErr(clip.encodeText(short).dataSync(), want)).toBeLessThan(1e-5);
    });
    clip.dispose();
  });

  it('timm ViT features and logits match PyTorch', () => {
    const cfg = modelConfig('test-vit');
    const vit = loadVit(cfg, join(dir, 'vit_timm.safetensors'));
    const s = cfg.vision.imageSize;
    tf.tidy(() => {
      const { logits, features } = vit.forward(tf.tensor4d(exp('vit_images'), [3, s, s, 3]));
      expect(maxRelErr(features.dataSync(), exp('vit_features'))).toBeLessThan(1e-5);
      expect(maxRelErr(logits.dataSync(), exp('vit_logits'))).toBeLessThan(1e-5);
    });
    vit.dispose();
  });

  it('a checkpoint that does not fit the config is one error listing the keys', () => {
    const wrongSize = modelConfig('test-clip', { vocabSize: 30 });
    expect(() => loadClip(wrongSize, join(dir, 'clip_openai.safetensors'))).toThrow(
      /mis-shaped \(1\): token_embedding\.weight: \[20,16\], expected \[30,16\]/);
    const notClip = () => loadClip(modelConfig('test-clip'), join(dir, 'vit_timm.safetensors'));
    expect(notClip).toThrow(/missing \(\d+\): visual\.conv1\.weight, visual\.class_embedding/);
    expect(notClip).toThrow(/unexpected \(\d+\): patch_embed\.proj\.weight, patch_embed\.proj\.bias/);
    expect(() => loadVit(modelConfig('test-vit', { numClasses: 7 }), join(dir, 'vit_timm.safetensors'))).toThrow(/head\.weight: \[5,16\], expected \[7,16\]/);
  });

  it('DoRA values and gradients match a float64 PyTorch autograd of the formula', () => {
    const W = exp('dora_W'), [out, inp] = expected.entries.get('dora_W')!.shape;
    const r = expected.entries.get('dora_A')!.shape[0];
    const layer = createDora('t', tf.tensor2d(W, [out, inp]), { rank: r, alpha: r * exp('dora_scaling')[0], seed: 0 });
    // The test case has its own A and B (not the seeded init).
    layer.A.assign(tf.tensor2d(exp('dora_A'), [r, out]));
    layer.B.assign(tf.tensor2d(exp('dora_B'), [inp, r]));
    expect(maxRelErr(layer.m.dataSync(), Array.from({ length: out }, (_, o) => Math.hypot(...W.slice(o * inp, (o + 1) * inp))))).toBeLessThan(1e-6);
    const x = tf.tensor2d(exp('dora_x'), [4, inp]), b = tf.tensor1d(exp('dora_b')), g = tf.tensor2d(exp('dora_g'), [4, out]);
    const f = (xx: tf.Tensor, m: tf.Tensor, A: tf.Tensor, B: tf.Tensor) =>
      linear(xx as tf.Tensor2D, doraWeight(m as tf.Tensor1D, layer.D, A as tf.Tensor2D, B as tf.Tensor2D, layer.scaling), b, true);
    const y = f(x, layer.m, layer.A, layer.B);
    expect(maxRelErr(y.dataSync(), exp('dora_y'))).toBeLessThan(1e-5);
    const [dx, dm, dA, dB] = tf.grads((xx, m, A, B) => tf.sum(tf.mul(f(xx, m, A, B), g)))([x, layer.m, layer.A, layer.B]);
    expect(maxRelErr(dx.dataSync(), exp('dora_dx'))).toBeLessThan(1e-5);
    expect(maxRelErr(dm.dataSync(), exp('dora_dm'))).toBeLessThan(1e-5);
    expect(maxRelErr(dA.dataSync(), exp('dora_dA'))).toBeLessThan(1e-5);
    expect(maxRelErr(dB.dataSync(), exp('dora_dB'))).toBeLessThan(1e-5);
    layer.dispose();
  });
});

describe('DoRA init (method §1.3)', () => {
  it('draws A ~ U(±1/√out), B ~ U(±1/√r), reproducibly from the seed and layer name', () => {
    const W = tf.randomNormal([64, 48], 0, 1, 'float32', 1) as tf.Tensor2D;
    const a = createDora('clip_model.visual.transformer.resblocks.22.attn.out_proj', W, { rank: 8, alpha: 4, seed: 1 });
    const b = createDora('clip_model.visual.transformer.resblocks.22.attn.out_proj', W, { rank: 8, alpha: 4, seed: 1 });
    const c = createDora('clip_model.visual.transformer.resblocks.23.attn.out_proj', W, { rank: 8, alpha: 4, seed: 1 });
    expect(a.A.shape).toEqual([8, 64]);
    expect(a.B.shape).toEqual([48, 8]);
    expect(a.scaling).toBe(0.5);
    const A = a.A.dataSync(), B = a.B.dataSync();
    expect(Math.max(...A.map(Math.abs))).toBeLessThanOrEqual(1 / 8);
    expect(Math.max(...A.map(Math.abs))).toBeGreaterThan(0.9 / 8);
    expect(Math.max(...B.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(8));
    expect(Math.max(...B.map(Math.abs))).toBeGreaterThan(0.9 / Math.sqrt(8));
    expect(Array.from(b.A.dataSync())).toEqual(Array.from(A));
    expect(Array.from(c.A.dataSync())).not.toEqual(Array.from(A));
    for (const l of [a, b, c]) l.dispose();
  });
});

describe('safetensors', () => {
  it('round-trips every dtype, shape and metadata, atomically', async () => {
    const { writeSafetensors } = await import('./index.js');
    const path = join(mkdtempSync(join(tmpdir(), 'lw-st-')), 'x.safetensors');
    const tensors = {
      f32: { dtype: 'F32' as const, shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-30, -7]) },
      f16: { dtype: 'F16' as const, shape: [3], data: Uint16Array.from([0x3c00, 0xc000, 0x3555]) }, // 1, -2, 0.33325
      bf16: { dtype: 'BF16' as const, shape: [2], data: Uint16Array.from([0x3f80, 0xc040]) }, // 1, -3
      i64: { dtype: 'I64' as const, shape: [2], data: BigInt64Array.from([5n, -9007199254740993n]) },
      scalar: { dtype: 'F32' as const, shape: [], data: Float32Array.from([4.25]) },
    };
    writeSafetensors(path, tensors, { format: 'pt' });
    const f = readSafetensors(path);
    expect(f.metadata).toEqual({ format: 'pt' });
    expect(f.names()).toEqual(Object.keys(tensors));
    for (const [name, t] of Object.entries(tensors)) {
      const back = f.read(name);
      expect(back.dtype).toBe(t.dtype);
      expect(back.shape).toEqual(t.shape);
      expect(Array.from(back.data as ArrayLike<number | bigint>)).toEqual(Array.from(t.data as ArrayLike<number | bigint>));
    }
    expect(Array.from(f.readFloat32('f16'))).toEqual([1, -2, Math.fround(0.333251953125)]);
    expect(Array.from(f.readFloat32('bf16'))).toEqual([1, -3]);
    f.close();
  });
});
