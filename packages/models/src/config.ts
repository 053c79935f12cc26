import { UserError } from '@lw/core';
import { z } from 'zod';
import { ResnetConfig, resnetConfigs } from './resnet-config.js';

/**
 * Named model configs. A config fully determines the architecture (and so every parameter shape);
 * it is written beside weights as JSON and read back with `configFromJson`.
 */

const posInt = z.number().int().positive();

/** A ViT trunk. `clip` = OpenAI CLIP visual layout, `timm` = timm VisionTransformer layout. */
export const VisionConfig = z.object({
  layout: z.enum(['clip', 'timm']),
  imageSize: posInt,
  patchSize: posInt,
  width: posInt,
  layers: posInt,
  heads: posInt,
  mlpWidth: posInt,
  /** LayerNorm epsilon: 1e-5 in CLIP, 1e-6 in timm ViT. */
  lnEps: z.number().positive(),
  /** CLIP uses QuickGELU x*sigmoid(1.702x); timm the exact erf GELU. */
  activation: z.enum(['quick_gelu', 'gelu']),
}).refine((v) => v.imageSize % v.patchSize === 0, { message: 'imageSize must be a multiple of patchSize' })
  .refine((v) => v.width % v.heads === 0, { message: 'width must be a multiple of heads' });
export type VisionConfig = z.infer<typeof VisionConfig>;

export const TextConfig = z.object({
  vocabSize: posInt,
  contextLength: posInt,
  width: posInt,
  layers: posInt,
  heads: posInt,
  mlpWidth: posInt,
  /** Which tokenizer produces the ids: CLIP BPE (real checkpoints) or the toy `WordTokenizer`. */
  tokenizer: z.enum(['bpe', 'words']),
  /**
   * OpenAI CLIP uses QuickGELU; Hugging Face checkpoints say which in `text_config.hidden_act`, OpenCLIP
   * models without `quick_gelu` use the exact GELU. Defaults keep config.json files written before the field.
   */
  activation: z.enum(['quick_gelu', 'gelu']).default('quick_gelu'),
  /** LayerNorm epsilon of the blocks and ln_final (HF `text_config.layer_norm_eps`); 1e-5 in OpenAI CLIP. */
  lnEps: z.number().positive().default(1e-5),
}).refine((v) => v.width % v.heads === 0, { message: 'width must be a multiple of heads' });
export type TextConfig = z.infer<typeof TextConfig>;

/** Where CLIP-HBA puts DoRA (method §1.2) and its rank/alpha (§1.3: r=32, alpha=16 for the study). */
export const DoraConfig = z.object({
  visionBlocks: z.array(z.number().int().nonnegative()),
  textBlocks: z.array(z.number().int().nonnegative()),
  rank: posInt,
  alpha: z.number().positive(),
});
export type DoraConfig = z.infer<typeof DoraConfig>;

export const ClipConfig = z.object({
  kind: z.literal('clip'),
  name: z.string(),
  /** Joint embedding size: output of visual.proj and text_projection. */
  embedDim: posInt,
  vision: VisionConfig,
  text: TextConfig,
  dora: DoraConfig,
});
export type ClipConfig = z.infer<typeof ClipConfig>;

export const VitConfig = z.object({
  kind: z.literal('vit'),
  name: z.string(),
  vision: VisionConfig,
  numClasses: posInt,
});
export type VitConfig = z.infer<typeof VitConfig>;

export const ModelConfig = z.discriminatedUnion('kind', [ClipConfig, VitConfig, ResnetConfig]);
export type ModelConfig = z.infer<typeof ModelConfig>;

const clipVision = (o: Pick<VisionConfig, 'imageSize' | 'patchSize' | 'width' | 'layers' | 'heads'>): VisionConfig =>
  ({ layout: 'clip', mlpWidth: 4 * o.width, lnEps: 1e-5, activation: 'quick_gelu', ...o });
const timmVision = (o: Pick<VisionConfig, 'imageSize' | 'patchSize' | 'width' | 'layers' | 'heads'>): VisionConfig =>
  ({ layout: 'timm', mlpWidth: 4 * o.width, lnEps: 1e-6, activation: 'gelu', ...o });
const clipText = (o: Pick<TextConfig, 'width' | 'layers' | 'heads'> & Partial<TextConfig>): TextConfig =>
  ({ vocabSize: 49408, contextLength: 77, mlpWidth: 4 * o.width, tokenizer: 'bpe', activation: 'quick_gelu', lnEps: 1e-5, ...o });

/** Default vocabulary size of the tiny text tower; the toy set's real size comes from its vocab.txt. */
export const TINY_VOCAB_SIZE = 512;

const named: Record<string, () => ModelConfig> = {
  // OpenAI ViT-L/14 (224 px): the CLIP-HBA backbone of the study.
  'clip-vit-l14': () => ({
    kind: 'clip', name: 'clip-vit-l14', embedDim: 768,
    vision: clipVision({ imageSize: 224, patchSize: 14, width: 1024, layers: 24, heads: 16 }),
    text: clipText({ width: 768, layers: 12, heads: 12 }),
    dora: { visionBlocks: [22, 23], textBlocks: [11], rank: 32, alpha: 16 },
  }),
  // OpenAI ViT-L/14 fine-tuned at 336 px (577 image tokens).
  'clip-vit-l14-336': () => ({
    kind: 'clip', name: 'clip-vit-l14-336', embedDim: 768,
    vision: clipVision({ imageSize: 336, patchSize: 14, width: 1024, layers: 24, heads: 16 }),
    text: clipText({ width: 768, layers: 12, heads: 12 }),
    dora: { visionBlocks: [22, 23], textBlocks: [11], rank: 32, alpha: 16 },
  }),
  'clip-vit-b32': () => ({
    kind: 'clip', name: 'clip-vit-b32', embedDim: 512,
    vision: clipVision({ imageSize: 224, patchSize: 32, width: 768, layers: 12, heads: 12 }),
    text: clipText({ width: 512, layers: 12, heads: 8 }),
    dora: { visionBlocks: [10, 11], textBlocks: [11], rank: 32, alpha: 16 },
  }),
  'clip-vit-b16': () => ({
    kind: 'clip', name: 'clip-vit-b16', embedDim: 512,
    vision: clipVision({ imageSize: 224, patchSize: 16, width: 768, layers: 12, heads: 12 }),
    text: clipText({ width: 512, layers: 12, heads: 8 }),
    dora: { visionBlocks: [10, 11], textBlocks: [11], rank: 32, alpha: 16 },
  }),
  // timm vit_base_patch16_224, trained from scratch on ImageNet (method §7).
  'vit-b16': () => ({
    kind: 'vit', name: 'vit-b16', numClasses: 1000,
    vision: timmVision({ imageSize: 224, patchSize: 16, width: 768, layers: 12, heads: 12 }),
  }),
  // The embedded default's CLIP: rank 8 / alpha 4 keeps the study's alpha/r = 0.5 at width 64.
  'tiny-clip': () => ({
    kind: 'clip', name: 'tiny-clip', embedDim: 64,
    vision: clipVision({ imageSize: 32, patchSize: 4, width: 64, layers: 4, heads: 4 }),
    text: clipText({ width: 64, layers: 3, heads: 4, contextLength: 24, vocabSize: TINY_VOCAB_SIZE, tokenizer: 'words' }),
    dora: { visionBlocks: [2, 3], textBlocks: [2], rank: 8, alpha: 4 },
  }),
  // tiny-clip with CLIP's BPE text tower (49,408 tokens, 77 positions): a checkpoint of the real study's
  // shape and files at toy cost, for trying the real pipeline file on a CPU (bench/study-gpu --config).
  'tiny-clip-bpe': () => ({
    kind: 'clip', name: 'tiny-clip-bpe', embedDim: 64,
    vision: clipVision({ imageSize: 32, patchSize: 4, width: 64, layers: 4, heads: 4 }),
    text: clipText({ width: 64, layers: 3, heads: 4 }),
    dora: { visionBlocks: [2, 3], textBlocks: [2], rank: 8, alpha: 4 },
  }),
  // The embedded default's classifier (stand-in for ViT-B/16); 10 classes by default.
  'tiny-vit': () => ({
    kind: 'vit', name: 'tiny-vit', numClasses: 10,
    vision: timmVision({ imageSize: 32, patchSize: 4, width: 64, layers: 4, heads: 4 }),
  }),
  // Micro configs for unit tests: a few thousand parameters, milliseconds per step.
  'test-clip': () => ({
    kind: 'clip', name: 'test-clip', embedDim: 8,
    vision: clipVision({ imageSize: 8, patchSize: 4, width: 16, layers: 2, heads: 2 }),
    text: clipText({ width: 16, layers: 2, heads: 2, contextLength: 6, vocabSize: 20, tokenizer: 'words' }),
    dora: { visionBlocks: [1], textBlocks: [1], rank: 4, alpha: 2 },
  }),
  'test-vit': () => ({
    kind: 'vit', name: 'test-vit', numClasses: 5,
    vision: timmVision({ imageSize: 8, patchSize: 4, width: 16, layers: 2, heads: 2 }),
  }),
  ...resnetConfigs,
};

export const MODEL_NAMES = Object.keys(named);

export interface ConfigOverrides {
  /** Text vocabulary size (the toy set's: `WordTokenizer.vocabSize`). */
  vocabSize?: number;
  /** Classifier classes. */
  numClasses?: number;
}

/** The named config, validated. Overrides fit it to a data set (vocabulary, classes). */
export function modelConfig(name: 'clip-vit-l14' | 'clip-vit-l14-336' | 'clip-vit-b32' | 'clip-vit-b16' | 'tiny-clip' | 'test-clip', overrides?: ConfigOverrides): ClipConfig;
export function modelConfig(name: 'vit-b16' | 'tiny-vit' | 'test-vit', overrides?: ConfigOverrides): VitConfig;
export function modelConfig(name: 'resnet18' | 'resnet50' | 'tiny-resnet', overrides?: ConfigOverrides): ResnetConfig;
export function modelConfig(name: string, overrides?: ConfigOverrides): ModelConfig;
export function modelConfig(name: string, overrides: ConfigOverrides = {}): ModelConfig {
  const make = named[name];
  if (!make) throw new UserError(`unknown model config "${name}"`, `known configs: ${MODEL_NAMES.join(', ')}`);
  const c = make();
  if (c.kind === 'clip' && overrides.vocabSize !== undefined) c.text.vocabSize = overrides.vocabSize;
  if ((c.kind === 'vit' || c.kind === 'resnet') && overrides.numClasses !== undefined) c.numClasses = overrides.numClasses;
  return ModelConfig.parse(c);
}

/** Reads a config stored beside weights (`config.json`); `source` names the file in errors. */
export function configFromJson(json: unknown, source = 'config.json'): ModelConfig {
  const r = ModelConfig.safeParse(typeof json === 'string' ? JSON.parse(json) : json);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new UserError(`${source} is not a valid model config: ${issues}`, `write it with JSON.stringify(modelConfig(name)); known names: ${MODEL_NAMES.join(', ')}`);
  }
  return r.data;
}
