import { join } from 'node:path';
import { UserError } from '@lw/core';
import { tf, type Clip, type ClipConfig } from '@lw/models';
import type { TrainData } from '../dataset.js';
import { writeFileAtomic } from '../files.js';
import { FEATURES_FILE, featuresManifest, type FeaturesManifest } from '../feature-cache.js';
import { decodeHalf, encodeHalf } from '../half.js';
import { writeTensorFile } from '../tensor-file.js';

/** Storage options of the cache (the stage's params without the backend). */
export interface FeatureWriteOptions {
  dtype: 'float32' | 'float16';
  batchSize: number;
  shardSize: number;
}

/** Writes the cache of `clip` on every split of `data`; `prompts` [P, ctx] are the tokenized prompts. */
export async function writeFeatures(outDir: string, clip: Clip, data: TrainData, prompts: Int32Array, p: FeatureWriteOptions, progress: (done: number, total: number) => void): Promise<FeaturesManifest> {
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
  store('text_prefix.safetensors', (await text.data()) as Float32Array, textShape);
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
        out.set((await prefix.data()) as Float32Array, b * T * Wv);
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
