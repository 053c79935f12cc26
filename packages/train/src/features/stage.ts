import { join } from 'node:path';
import { defineStage, UserError, type TaskResult } from '@lw/core';
import { BackendName, initBackend, tf, type Clip, type ClipConfig } from '@lw/models';
import { z } from 'zod';
import type { TrainData } from '../dataset.js';
import { writeFileAtomic } from '../files.js';
import { FEATURES_FILE, featuresManifest, type FeaturesManifest } from '../feature-cache.js';
import { encodeHalf, decodeHalf } from '../half.js';
import { loadSavedClip } from '../model-store.js';
import { openTrainData } from '../open-data.js';
import { writeTaskParams } from '../task-info.js';
import { writeTensorFile } from '../tensor-file.js';
import { promptTokens } from '../tokens.js';

/**
 * `train/features`: the frozen-prefix feature cache (design "Frozen-prefix feature cache"). Vision
 * blocks before the first DoRA block and text blocks before the first DoRA text block never change
 * during CLIP-HBA training and its inputs are deterministic, so their outputs are computed once:
 * for every image of every split the input of the first DoRA vision block [T, W], and for the
 * prompts the input of the first DoRA text block [P, ctx, Wt]. Stored float32, or float16 with the
 * measured rounding error in features.json.
 */
export const featuresParams = z.object({
  dtype: z.enum(['float32', 'float16']).default('float32').describe('Storage precision of the activations'),
  batchSize: z.number().int().min(1).default(64).describe('Images per forward pass'),
  shardSize: z.number().int().min(1).default(256).describe('Images per shard file'),
  backend: BackendName.default('auto'),
});
export type FeaturesParams = z.output<typeof featuresParams>;

export const featuresStage = defineStage({
  id: 'train/features',
  description: 'Frozen-prefix activations (input of the first DoRA vision block per image, of the DoRA text block for the prompts)',
  packageName: '@lw/train',
  params: featuresParams,
  inputs: {
    model: { description: 'The CLIP (train/clip-pretrain)', accepts: ['train/clip-pretrain'], arity: 'one' },
    data: { description: 'A THINGS-like data set', accepts: ['data/toy', 'data/things'], arity: 'one' },
  },
  async run(ctx) {
    const p = ctx.params;
    const backend = await initBackend({ backend: p.backend });
    const data = openTrainData((ctx.inputs.data as TaskResult).dir);
    const clip = loadSavedClip((ctx.inputs.model as TaskResult).dir);
    writeTaskParams(ctx.outDir, { stage: 'train/features', params: p, backend });
    const manifest = writeFeatures(ctx.outDir, clip, data, promptTokens(data, clip.config as ClipConfig), p, ctx.progress);
    clip.dispose();
    const images = Object.values(manifest.splits).reduce((n, s) => n + s.shards.reduce((m, x) => m + x.ids.length, 0), 0);
    return { dtype: p.dtype, visionShape: manifest.visionShape, textShape: manifest.textShape, images, error: manifest.error, backend: backend.name };
  },
});

/** Writes the cache of `clip` on every split of `data`; `prompts` [P, ctx] are the tokenized prompts. */
export function writeFeatures(outDir: string, clip: Clip, data: TrainData, prompts: Int32Array, p: FeaturesParams, progress: (done: number, total: number) => void): FeaturesManifest {
  const config = clip.config as ClipConfig;
  if (!config.dora.visionBlocks.length || !config.dora.textBlocks.length) throw new UserError(`${config.name} places no DoRA blocks`);
  const visionStart = Math.min(...config.dora.visionBlocks), textStart = Math.min(...config.dora.textBlocks);
  const [H, W] = data.imageShape;
  const T = (config.vision.imageSize / config.vision.patchSize) ** 2 + 1, Wv = config.vision.width;
  const error = { maxAbs: 0, maxRel: 0, maxAbsValue: 0 };
  // Stores one tensor; for float16, tracks the rounding error against the float32 values.
  const store = (file: string, values: Float32Array, shape: number[]) => {
    if (p.dtype === 'float32') return writeTensorFile(join(outDir, file), new Map([['prefix', { dtype: 'F32', shape, data: values }]]));
    const half = encodeHalf(values), back = decodeHalf(half);
    for (let i = 0; i < values.length; i++) {
      const a = Math.abs(values[i]), e = Math.abs(back[i] - values[i]);
      if (e > error.maxAbs) error.maxAbs = e;
      if (a >= 2 ** -14 && e / a > error.maxRel) error.maxRel = e / a; // bounded in the normal range only
      if (a > error.maxAbsValue) error.maxAbsValue = a;
    }
    writeTensorFile(join(outDir, file), new Map([['prefix', { dtype: 'F16', shape, data: half }]]));
  };

  const text = tf.tidy(() => clip.textBlockInput(prompts, textStart));
  const textShape = text.shape as [number, number, number];
  store('text_prefix.safetensors', text.dataSync() as Float32Array, textShape);
  text.dispose();

  const splits: FeaturesManifest['splits'] = {};
  const total = data.counts.train + data.counts.val + data.counts.test;
  let done = 0;
  for (const name of ['train', 'val', 'test'] as const) {
    const split = data.loadSplit(name);
    splits[name] = { shards: [] };
    for (let s = 0, k = 0; s < split.count; s += p.shardSize, k++) {
      const n = Math.min(p.shardSize, split.count - s);
      const out = new Float32Array(n * T * Wv); // [n, T, W]
      for (let b = 0; b < n; b += p.batchSize) {
        const m = Math.min(p.batchSize, n - b);
        const from = (s + b) * H * W * 3;
        const prefix = tf.tidy(() => clip.visual.blockInput(tf.tensor4d(split.images.subarray(from, from + m * H * W * 3), [m, H, W, 3]), visionStart));
        out.set(prefix.dataSync() as Float32Array, b * T * Wv);
        prefix.dispose();
        progress((done += m), total);
      }
      const file = `vision-${name}-${k}.safetensors`;
      store(file, out, [n, T, Wv]);
      splits[name].shards.push({ file, ids: split.ids.slice(s, s + n) });
    }
  }
  const manifest = featuresManifest.parse({
    format: 'lw-features/1', dtype: p.dtype, model: config.name, visionStart, textStart,
    visionShape: [T, Wv], textShape, splits, text: 'text_prefix.safetensors',
    error: p.dtype === 'float16' ? error : undefined,
  });
  writeFileAtomic(join(outDir, FEATURES_FILE), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}
