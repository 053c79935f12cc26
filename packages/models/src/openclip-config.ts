import { UserError } from '@lw/core';
import { z } from 'zod';
import type { ClipConfig } from './config.js';
import { checkedClipConfig, studyDora } from './imported-config.js';

/**
 * OpenCLIP's `open_clip_config.json` ({model_cfg, preprocess_cfg}) -> ClipConfig. Defaults are OpenCLIP's
 * CLIPVisionCfg / CLIPTextCfg. Its weights carry OpenAI's key names. Its towers use nn.GELU (exact) unless
 * `quick_gelu` is true, and LayerNorm eps 1e-5 unless the tower's norm_kwargs give another.
 * Only the OpenAI-style ViT towers are read: timm or Hugging Face towers, ModifiedResNet (layers as a list),
 * attentional pooling and LayerScale would be other architectures, and are refused by name.
 */

const size = z.union([z.number().int().positive(), z.tuple([z.number().int().positive(), z.number().int().positive()])]);
const normKwargs = z.object({ eps: z.number().positive().optional() }).loose().optional();
const VisionCfg = z.object({
  image_size: size.default(224),
  patch_size: size.default(16),
  width: z.number().int().positive().default(768),
  layers: z.union([z.number().int().positive(), z.array(z.number())]).default(12),
  head_width: z.number().int().positive().default(64),
  mlp_ratio: z.number().positive().default(4),
  norm_kwargs: normKwargs,
}).loose();
const TextCfg = z.object({
  context_length: z.number().int().positive().default(77),
  vocab_size: z.number().int().positive().default(49408),
  width: z.number().int().positive().default(512),
  heads: z.number().int().positive().default(8),
  layers: z.number().int().positive().default(12),
  mlp_ratio: z.number().positive().default(4),
  norm_kwargs: normKwargs,
}).loose();
const OpenClipJson = z.object({
  model_cfg: z.object({
    embed_dim: z.number().int().positive(),
    quick_gelu: z.boolean().default(false),
    vision_cfg: VisionCfg.prefault({}),
    text_cfg: TextCfg.prefault({}),
  }).loose(),
}).loose();

/** Settings that make a tower something other than OpenAI's ViT / text transformer, when set to a truthy value. */
const OTHER_ARCHITECTURE: Record<'vision_cfg' | 'text_cfg', string[]> = {
  vision_cfg: ['timm_model_name', 'attentional_pool', 'ls_init_value', 'no_ln_pre', 'final_ln_after_pool', 'proj_bias', 'global_average_pool', 'input_patchnorm'],
  text_cfg: ['hf_model_name', 'ls_init_value', 'embed_cls', 'no_causal_mask', 'final_ln_after_pool', 'proj_bias'],
};

export function clipConfigFromOpenClip(json: unknown, opts: { name: string; source: string }): ClipConfig {
  const { source } = opts;
  const r = OpenClipJson.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new UserError(`${source}: ${i.path.join('.') || '(root)'}: ${i.message}`, 'expected OpenCLIP\'s {"model_cfg": {"embed_dim", "vision_cfg", "text_cfg"}} as open_clip pushes it to the hub');
  }
  const m = r.data.model_cfg;
  for (const tower of ['vision_cfg', 'text_cfg'] as const) {
    for (const key of OTHER_ARCHITECTURE[tower]) {
      const value = (m[tower] as Record<string, unknown>)[key];
      if (value) throw new UserError(`${source}: model_cfg.${tower}.${key} is ${JSON.stringify(value)}`, `that OpenCLIP ${tower === 'vision_cfg' ? 'image' : 'text'} tower is not the OpenAI ViT layout this CLIP implements; leave ${key} unset`);
    }
  }
  const pool = (m.text_cfg as Record<string, unknown>).pool_type;
  if (pool !== undefined && pool !== 'argmax') throw new UserError(`${source}: model_cfg.text_cfg.pool_type is ${JSON.stringify(pool)}`, 'this CLIP takes the text feature at the EOT (argmax) token: pool_type "argmax"');
  const visionPool = (m.vision_cfg as Record<string, unknown>).pool_type;
  if (visionPool !== undefined && visionPool !== 'tok') throw new UserError(`${source}: model_cfg.vision_cfg.pool_type is ${JSON.stringify(visionPool)}`, 'this CLIP takes the image feature at the class token: pool_type "tok"');
  const v = m.vision_cfg, t = m.text_cfg;
  if (Array.isArray(v.layers)) throw new UserError(`${source}: model_cfg.vision_cfg.layers is ${JSON.stringify(v.layers)} (a ModifiedResNet image tower)`, 'only ViT image towers (layers: an integer) are read');
  const square = (field: 'image_size' | 'patch_size'): number => {
    const s = v[field];
    if (typeof s === 'number') return s;
    if (s[0] !== s[1]) throw new UserError(`${source}: model_cfg.vision_cfg.${field} is ${JSON.stringify(s)}`, 'only square images and patches are supported');
    return s[0];
  };
  const whole = (field: string, what: string, x: number): number => {
    if (!Number.isInteger(x)) throw new UserError(`${source}: ${field} gives ${what} ${x}`, 'the MLP width (width x mlp_ratio) and the heads (width / head_width) must be whole numbers');
    return x;
  };
  const activation = m.quick_gelu ? 'quick_gelu' : 'gelu';
  return checkedClipConfig({
    kind: 'clip', name: opts.name, embedDim: m.embed_dim,
    vision: {
      layout: 'clip', imageSize: square('image_size'), patchSize: square('patch_size'), width: v.width, layers: v.layers,
      heads: whole('model_cfg.vision_cfg.head_width', 'heads', v.width / v.head_width), mlpWidth: whole('model_cfg.vision_cfg.mlp_ratio', 'an MLP width of', v.width * v.mlp_ratio),
      lnEps: v.norm_kwargs?.eps ?? 1e-5, activation,
    },
    text: {
      vocabSize: t.vocab_size, contextLength: t.context_length, width: t.width, layers: t.layers, heads: t.heads,
      mlpWidth: whole('model_cfg.text_cfg.mlp_ratio', 'an MLP width of', t.width * t.mlp_ratio), tokenizer: 'bpe', activation, lnEps: t.norm_kwargs?.eps ?? 1e-5,
    },
    dora: studyDora(v.layers, t.layers),
  }, source);
}
