import { UserError } from '@lw/core';
import { z } from 'zod';
import { VitConfig } from './config.js';

/**
 * The model config of a timm ViT saved in the Hugging Face hub format (`timm.models.push_to_hf_hub` /
 * `save_for_hf`): config.json with `architecture` (a timm model name such as vit_base_patch16_224),
 * `num_classes`, optional `model_args` (the kwargs given to timm.create_model) and `pretrained_cfg`
 * (input size, normalisation). Only the plain timm VisionTransformer this repo implements is read:
 * class token + learned positions, token pooling, final LayerNorm (eps 1e-6), exact GELU, qkv bias;
 * anything else (registers, global average pooling, layer scale, pre-norm CLIP ViTs) is refused by name.
 */

const posInt = z.number().int().positive();
const imgSize = z.union([posInt, z.tuple([posInt, posInt])]);

/** model_args keys that change the architecture, and the values this ViT supports (timm's defaults). */
const ModelArgs = z.object({
  img_size: imgSize.optional(),
  patch_size: posInt.optional(),
  embed_dim: posInt.optional(),
  depth: posInt.optional(),
  num_heads: posInt.optional(),
  mlp_ratio: z.number().positive().optional(),
  num_classes: posInt.optional(),
  in_chans: z.literal(3).optional(),
  qkv_bias: z.literal(true).optional(),
  class_token: z.literal(true).optional(),
  global_pool: z.literal('token').optional(),
  no_embed_class: z.literal(false).optional(),
  reg_tokens: z.literal(0).optional(),
  pre_norm: z.literal(false).optional(),
  fc_norm: z.union([z.literal(false), z.null()]).optional(),
  init_values: z.null().optional(),
  // Dropout rates act in training only; the forward here has none, so they are read and ignored.
  drop_rate: z.number().optional(),
  pos_drop_rate: z.number().optional(),
  proj_drop_rate: z.number().optional(),
  attn_drop_rate: z.number().optional(),
  drop_path_rate: z.number().optional(),
}).strict();

export const TimmHubConfig = z.object({
  architecture: z.string(),
  num_classes: posInt.optional(),
  global_pool: z.literal('token').optional(),
  model_args: z.record(z.string(), z.unknown()).optional(),
  pretrained_cfg: z.object({
    input_size: z.tuple([z.literal(3), posInt, posInt]).optional(),
    mean: z.array(z.number()).length(3).optional(),
    std: z.array(z.number()).length(3).optional(),
    num_classes: posInt.optional(),
    tag: z.string().optional(),
  }).passthrough().optional(),
}).passthrough();
export type TimmHubConfig = z.infer<typeof TimmHubConfig>;

/** timm's named ViT sizes (vision_transformer.py): embed_dim, depth, num_heads; mlp_ratio 4 in all. */
const SIZES: Record<string, { width: number; layers: number; heads: number }> = {
  tiny: { width: 192, layers: 12, heads: 3 },
  small: { width: 384, layers: 12, heads: 6 },
  base: { width: 768, layers: 12, heads: 12 },
  large: { width: 1024, layers: 24, heads: 16 },
  huge: { width: 1280, layers: 32, heads: 16 },
};
const ARCH = /^vit_(tiny|small|base|large|huge)_patch(\d+)_(\d+)$/;
export const TIMM_VIT_ARCHITECTURES = 'vit_{tiny,small,base,large,huge}_patch{P}_{size}, e.g. vit_base_patch16_224, vit_small_patch16_384, vit_base_patch32_224';

export interface TimmVitInfo {
  config: VitConfig;
  /** The preprocessing the weights expect (pretrained_cfg), when the file gives it. */
  mean?: number[];
  std?: number[];
}

/**
 * The VitConfig a timm hub config.json describes. `source` names the file in errors; `name` is the
 * config's name (default: the architecture, with the pretrained tag when there is one).
 */
export function vitConfigFromTimm(json: unknown, opts: { source?: string; name?: string } = {}): TimmVitInfo {
  const source = opts.source ?? 'config.json';
  const parsed = TimmHubConfig.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new UserError(`${source}: field "${i.path.join('.') || '(root)'}": ${i.message}`, 'give the config.json timm writes beside model.safetensors (architecture, num_classes, model_args, pretrained_cfg)');
  }
  const hub = parsed.data;
  const m = ARCH.exec(hub.architecture);
  if (!m) {
    throw new UserError(`${source}: architecture "${hub.architecture}" is not a plain timm ViT this tool implements`,
      `supported: ${TIMM_VIT_ARCHITECTURES} (class token, token pooling, no registers or layer scale); or give params.config a ViT config`);
  }
  const args = ModelArgs.safeParse(hub.model_args ?? {});
  if (!args.success) {
    const i = args.error.issues[0];
    const key = i.path.join('.') || (i.code === 'unrecognized_keys' ? i.keys.join(', ') : '(root)');
    throw new UserError(`${source}: model_args.${key} is not supported (${i.message})`,
      'only a plain timm VisionTransformer is read: img_size, patch_size, embed_dim, depth, num_heads, mlp_ratio, num_classes and timm\'s defaults for the rest');
  }
  const a = args.data;
  const size = SIZES[m[1]];
  const side = a.img_size === undefined ? Number(m[3]) : typeof a.img_size === 'number' ? a.img_size : squareSide(a.img_size, source);
  const width = a.embed_dim ?? size.width;
  const numClasses = a.num_classes ?? hub.num_classes ?? hub.pretrained_cfg?.num_classes ?? 1000;
  const tag = hub.pretrained_cfg?.tag;
  const candidate = {
    kind: 'vit', name: opts.name ?? (tag ? `${hub.architecture}.${tag}` : hub.architecture), numClasses,
    vision: {
      layout: 'timm', imageSize: side, patchSize: a.patch_size ?? Number(m[2]), width, layers: a.depth ?? size.layers,
      heads: a.num_heads ?? size.heads, mlpWidth: Math.trunc(width * (a.mlp_ratio ?? 4)), lnEps: 1e-6, activation: 'gelu',
    },
  };
  const config = VitConfig.safeParse(candidate);
  if (!config.success) {
    const i = config.error.issues[0];
    throw new UserError(`${source}: the ViT it describes is invalid: ${i.path.join('.')}: ${i.message}`, 'check img_size, patch_size, embed_dim and num_heads in model_args');
  }
  return { config: config.data, mean: hub.pretrained_cfg?.mean, std: hub.pretrained_cfg?.std };
}

function squareSide([h, w]: [number, number], source: string): number {
  if (h !== w) throw new UserError(`${source}: model_args.img_size is ${h}x${w}`, 'only square ViT inputs are supported');
  return h;
}
