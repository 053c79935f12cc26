import { defineStage, singleInput } from '@lw/core';
import { BackendName, type ClipConfig } from '@lw/models';
import { z } from 'zod';
import { residentClip, residentData } from '../resident.js';
import { backendResources, startBackend } from '../stage-backend.js';
import { promptTokens } from '../tokens.js';
import { writeFeatures } from './write.js';

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
    model: { description: 'The CLIP (train/clip-pretrain)', accepts: ['train/clip-pretrain', 'train/clip-import'], arity: 'one' },
    data: { description: 'A THINGS-like data set', accepts: ['data/toy', 'data/things'], arity: 'one' },
  },
  resources: backendResources,
  async run(ctx) {
    const p = ctx.params;
    const backend = await startBackend(ctx, p.backend);
    // Resident (resident.ts): the behaviour tasks this worker runs next use the same model and data.
    const data = residentData(singleInput(ctx.inputs, 'data', 'train/features').dir);
    const modelDir = singleInput(ctx.inputs, 'model', 'train/features').dir;
    const clip = residentClip(modelDir);
    const manifest = await writeFeatures(ctx.outDir, clip, data, promptTokens(data, clip.config as ClipConfig, modelDir), p, ctx.progress);
    const images = Object.values(manifest.splits).reduce((n, s) => n + s.shards.reduce((m, x) => m + x.ids.length, 0), 0);
    return { dtype: p.dtype, visionShape: manifest.visionShape, textShape: manifest.textShape, images, error: manifest.error, backend: backend.name };
  },
});

