import { UserError } from '@lw/core';
import { z } from 'zod';
import type { ClipConfig } from './config.js';
import { checkedClipConfig, studyDora } from './imported-config.js';

/**
 * Hugging Face `CLIPModel` config.json -> ClipConfig. A field the file leaves out takes the default of
 * transformers' CLIPTextConfig / CLIPVisionConfig (what `from_pretrained` would use), and older files'
 * `text_config_dict` / `vision_config_dict` override `text_config` / `vision_config` as transformers merges them.
 * Tokens are CLIP BPE ids; LayerNorm eps and activation are per tower (pre/post LayerNorms use the tower's eps).
 */

const TEXT_DEFAULTS = {
  vocab_size: 49408, hidden_size: 512, intermediate_size: 2048, num_hidden_layers: 12, num_attention_heads: 8,
  max_position_embeddings: 77, hidden_act: 'quick_gelu', layer_norm_eps: 1e-5,
};
const VISION_DEFAULTS = {
  hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12, num_attention_heads: 12, num_channels: 3,
  image_size: 224, patch_size: 32, hidden_act: 'quick_gelu', layer_norm_eps: 1e-5,
};

const section = z.record(z.string(), z.unknown()).optional();
const HfClipJson = z.object({
  model_type: z.string().optional(),
  projection_dim: z.number().optional(),
  text_config: section,
  text_config_dict: section.nullable(),
  vision_config: section,
  vision_config_dict: section.nullable(),
}).loose();

/** True when the parsed config.json is a Hugging Face CLIPModel's. */
export function isHfClipJson(json: unknown): boolean {
  return typeof json === 'object' && json !== null && (json as { model_type?: unknown }).model_type === 'clip';
}

export function clipConfigFromHf(json: unknown, opts: { name: string; source: string }): ClipConfig {
  const { source } = opts;
  const parsed = HfClipJson.safeParse(json);
  if (!parsed.success) throw new UserError(`${source} is not a Hugging Face CLIP config.json: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`, 'give the config.json that CLIPModel.save_pretrained wrote');
  const hf = parsed.data;
  if (hf.model_type !== 'clip') {
    throw new UserError(`${source}: model_type is ${JSON.stringify(hf.model_type)}, not "clip"`,
      'train/clip-import reads CLIPModel checkpoints (model_type "clip"); a timm ViT goes through train/vit-import');
  }
  const text = { ...TEXT_DEFAULTS, ...hf.text_config, ...(hf.text_config_dict ?? {}) };
  const vision = { ...VISION_DEFAULTS, ...hf.vision_config, ...(hf.vision_config_dict ?? {}) };
  const int = (tower: 'text_config' | 'vision_config', field: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new UserError(`${source}: ${tower}.${field} is ${JSON.stringify(v)}`, 'expected a positive integer, as CLIPModel.save_pretrained writes it');
    }
    return v;
  };
  const eps = (tower: 'text_config' | 'vision_config', v: unknown): number => {
    if (typeof v !== 'number' || !(v > 0)) throw new UserError(`${source}: ${tower}.layer_norm_eps is ${JSON.stringify(v)}`, 'expected a positive number such as 1e-05');
    return v;
  };
  const t = (f: keyof typeof TEXT_DEFAULTS) => int('text_config', f, text[f]);
  const v = (f: keyof typeof VISION_DEFAULTS) => int('vision_config', f, vision[f]);
  if (v('num_channels') !== 3) throw new UserError(`${source}: vision_config.num_channels is ${vision.num_channels}`, 'the image tower reads RGB images: num_channels 3');
  const embedDim = hf.projection_dim ?? 512;
  if (!Number.isInteger(embedDim) || embedDim <= 0) throw new UserError(`${source}: projection_dim is ${JSON.stringify(hf.projection_dim)}`, 'expected a positive integer');
  const visionLayers = v('num_hidden_layers'), textLayers = t('num_hidden_layers');
  return checkedClipConfig({
    kind: 'clip', name: opts.name, embedDim,
    vision: {
      layout: 'clip', imageSize: v('image_size'), patchSize: v('patch_size'), width: v('hidden_size'), layers: visionLayers,
      heads: v('num_attention_heads'), mlpWidth: v('intermediate_size'),
      lnEps: eps('vision_config', vision.layer_norm_eps), activation: hfActivation('vision_config', vision.hidden_act, source),
    },
    text: {
      vocabSize: t('vocab_size'), contextLength: t('max_position_embeddings'), width: t('hidden_size'), layers: textLayers,
      heads: t('num_attention_heads'), mlpWidth: t('intermediate_size'), tokenizer: 'bpe',
      activation: hfActivation('text_config', text.hidden_act, source), lnEps: eps('text_config', text.layer_norm_eps),
    },
    dora: studyDora(visionLayers, textLayers),
  }, source);
}

/** transformers' ACT2FN names the towers can run: "quick_gelu" (x·σ(1.702x)) and "gelu" (exact erf GELU). */
function hfActivation(tower: 'text_config' | 'vision_config', value: unknown, source: string): 'quick_gelu' | 'gelu' {
  if (value === 'quick_gelu' || value === 'gelu') return value;
  throw new UserError(`${source}: ${tower}.hidden_act is ${JSON.stringify(value)}, which this CLIP does not implement`,
    'supported: "quick_gelu" (OpenAI CLIP) and "gelu" (exact erf GELU)');
}
