import { describe, expect, it } from 'vitest';
import { isUserError } from '@lw/core';
import {
  clipConfigFromHf, clipConfigFromOpenClip, clipConfigFromShapes, clipSpecs, modelConfig, summarize, type ClipConfig,
} from './index.js';

/**
 * The three config readers on the released OpenAI sizes. The Hugging Face config.json contents are the
 * architecture fields of the hub files openai/clip-vit-{base-patch32, base-patch16, large-patch14,
 * large-patch14-336} as transformers published them (generation settings such as top_k left out, which
 * the reader ignores); the OpenCLIP ones are open_clip's model_configs/ViT-*.json. Each must give the named
 * config of that size (but its name), and the named configs must have the published parameter counts.
 */

const hfTower = (o: Record<string, unknown>) => ({
  attention_dropout: 0.0, dropout: 0.0, hidden_act: 'quick_gelu', initializer_factor: 1.0, initializer_range: 0.02, layer_norm_eps: 1e-5, ...o,
});
const hfText = (width: number, heads: number, projection: number) => hfTower({
  model_type: 'clip_text_model', bos_token_id: 0, eos_token_id: 2, pad_token_id: 1, hidden_size: width, intermediate_size: 4 * width,
  max_position_embeddings: 77, num_attention_heads: heads, num_hidden_layers: 12, projection_dim: projection, vocab_size: 49408,
});
const hfVision = (o: { width: number; heads: number; layers: number; patch: number; image: number; projection: number }) => hfTower({
  model_type: 'clip_vision_model', hidden_size: o.width, image_size: o.image, intermediate_size: 4 * o.width, num_attention_heads: o.heads,
  num_channels: 3, num_hidden_layers: o.layers, patch_size: o.patch, projection_dim: o.projection,
});
const hfClip = (projection: number, text: object, vision: object, extra: object = {}) => ({
  architectures: ['CLIPModel'], initializer_factor: 1.0, logit_scale_init_value: 2.6592, model_type: 'clip', projection_dim: projection,
  text_config: text, text_config_dict: null, vision_config: vision, vision_config_dict: null, ...extra,
});

const HF: Record<string, unknown> = {
  'clip-vit-b32': hfClip(512, hfText(512, 8, 512), hfVision({ width: 768, heads: 12, layers: 12, patch: 32, image: 224, projection: 512 })),
  'clip-vit-b16': hfClip(512, hfText(512, 8, 512), hfVision({ width: 768, heads: 12, layers: 12, patch: 16, image: 224, projection: 512 })),
  // Saved by an older transformers: the real sizes are in *_config_dict, which override *_config.
  'clip-vit-l14': hfClip(768, hfText(768, 12, 768), hfVision({ width: 1024, heads: 16, layers: 24, patch: 14, image: 224, projection: 768 }), {
    text_config_dict: { hidden_size: 768, intermediate_size: 3072, num_attention_heads: 12, num_hidden_layers: 12, projection_dim: 768 },
    vision_config_dict: { hidden_size: 1024, intermediate_size: 4096, num_attention_heads: 16, num_hidden_layers: 24, patch_size: 14, projection_dim: 768 },
  }),
  'clip-vit-l14-336': hfClip(768, hfText(768, 12, 768), hfVision({ width: 1024, heads: 16, layers: 24, patch: 14, image: 336, projection: 768 })),
};

const OPENCLIP: Record<string, { file: string; json: unknown }> = {
  'clip-vit-b32': { file: 'ViT-B-32-quickgelu.json', json: { embed_dim: 512, quick_gelu: true, vision_cfg: { image_size: 224, layers: 12, width: 768, patch_size: 32 }, text_cfg: { context_length: 77, vocab_size: 49408, width: 512, heads: 8, layers: 12 } } },
  'clip-vit-b16': { file: 'ViT-B-16-quickgelu.json', json: { embed_dim: 512, quick_gelu: true, vision_cfg: { image_size: 224, layers: 12, width: 768, patch_size: 16 }, text_cfg: { context_length: 77, vocab_size: 49408, width: 512, heads: 8, layers: 12 } } },
  'clip-vit-l14': { file: 'ViT-L-14-quickgelu.json', json: { embed_dim: 768, quick_gelu: true, vision_cfg: { image_size: 224, layers: 24, width: 1024, patch_size: 14 }, text_cfg: { context_length: 77, vocab_size: 49408, width: 768, heads: 12, layers: 12 } } },
  'clip-vit-l14-336': { file: 'ViT-L-14-336-quickgelu.json', json: { embed_dim: 768, quick_gelu: true, vision_cfg: { image_size: 336, layers: 24, width: 1024, patch_size: 14 }, text_cfg: { context_length: 77, vocab_size: 49408, width: 768, heads: 12, layers: 12 } } },
};

/** Published parameter counts of OpenAI's CLIP models (sum of numel over the state dict, logit_scale included). */
const PARAMS: Record<string, number> = { 'clip-vit-b32': 151_277_313, 'clip-vit-b16': 149_620_737, 'clip-vit-l14': 427_616_513, 'clip-vit-l14-336': 427_944_193 };

const named = (n: string) => modelConfig(n) as ClipConfig;
const unnamed = (c: ClipConfig) => ({ ...c, name: '' });

function caught(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('the released sizes', () => {
  for (const size of Object.keys(HF)) {
    it(`${size}: Hugging Face config.json, OpenCLIP config and tensor shapes all give the named config`, () => {
      const want = unnamed(named(size));
      expect(summarize(named(size)).total).toBe(PARAMS[size]);
      expect(unnamed(clipConfigFromHf(HF[size], { name: size, source: 'config.json' }))).toEqual(want);
      expect(clipConfigFromHf(HF[size], { name: size, source: 'config.json' }).name).toBe(size);
      const oc = OPENCLIP[size];
      expect(unnamed(clipConfigFromOpenClip({ model_cfg: oc.json }, { name: size, source: oc.file }))).toEqual(want);
      // A bare OpenAI state dict: its keys and shapes are clipSpecs' (OpenAI names), heads by width / 64.
      const shapes = new Map([...clipSpecs(named(size))].map(([k, s]) => [k, s.shape]));
      expect(unnamed(clipConfigFromShapes(shapes, { name: size, source: 'shapes' }))).toEqual(want);
    });
  }
});

describe('clipConfigFromHf', () => {
  it('fields a config.json leaves out take transformers\' defaults (ViT-B/32 QuickGELU towers)', () => {
    expect(unnamed(clipConfigFromHf({ model_type: 'clip' }, { name: 'x', source: 'config.json' }))).toEqual(unnamed(named('clip-vit-b32')));
  });

  it('text_config_dict / vision_config_dict override text_config / vision_config, as transformers merges them', () => {
    const json = hfClip(768, hfText(512, 8, 512), hfVision({ width: 768, heads: 12, layers: 12, patch: 32, image: 224, projection: 512 }), {
      text_config_dict: { hidden_size: 768, intermediate_size: 3072, num_attention_heads: 12 },
      vision_config_dict: { hidden_size: 1024, intermediate_size: 4096, num_attention_heads: 16, num_hidden_layers: 24, patch_size: 14 },
    });
    expect(unnamed(clipConfigFromHf(json, { name: 'x', source: 'config.json' }))).toEqual(unnamed(named('clip-vit-l14')));
  });

  it('refuses another model_type and unknown activations, naming the field', () => {
    let e = caught(() => clipConfigFromHf({ model_type: 'siglip' }, { name: 'x', source: 'a/config.json' }));
    expect(isUserError(e)).toBe(true);
    expect(e.message).toBe('a/config.json: model_type is "siglip", not "clip"');
    e = caught(() => clipConfigFromHf({ model_type: 'clip', text_config: { hidden_act: 'gelu_new' } }, { name: 'x', source: 'a/config.json' }));
    expect(e.message).toMatch(/^a\/config\.json: text_config\.hidden_act is "gelu_new"/);
    e = caught(() => clipConfigFromHf({ model_type: 'clip', vision_config: { hidden_size: 100 } }, { name: 'x', source: 'a/config.json' }));
    expect(e.message).toMatch(/a\/config\.json gives an invalid CLIP config: vision: width must be a multiple of heads/);
  });
});

describe('clipConfigFromOpenClip', () => {
  it('without quick_gelu the towers use the exact GELU; norm_kwargs give the eps', () => {
    const c = clipConfigFromOpenClip({ model_cfg: { ...(OPENCLIP['clip-vit-b32'].json as object), quick_gelu: false, text_cfg: { width: 512, heads: 8, layers: 12, norm_kwargs: { eps: 1e-6 } } } }, { name: 'ViT-B-32', source: 'open_clip_config.json' });
    expect(c.vision.activation).toBe('gelu');
    expect(c.text).toMatchObject({ activation: 'gelu', lnEps: 1e-6 });
    expect(c.vision.lnEps).toBe(1e-5);
  });

  it('refuses towers of other architectures by their setting', () => {
    const e = caught(() => clipConfigFromOpenClip({ model_cfg: { embed_dim: 512, vision_cfg: { timm_model_name: 'vit_base_patch16_224' } } }, { name: 'x', source: 'open_clip_config.json' }));
    expect(isUserError(e)).toBe(true);
    expect(e.message).toBe('open_clip_config.json: model_cfg.vision_cfg.timm_model_name is "vit_base_patch16_224"');
    expect(caught(() => clipConfigFromOpenClip({ model_cfg: { embed_dim: 1024, vision_cfg: { layers: [3, 4, 6, 3], width: 64 } } }, { name: 'RN50', source: 'o.json' })).message)
      .toMatch(/ModifiedResNet/);
    expect(caught(() => clipConfigFromOpenClip({ model_cfg: { embed_dim: 512, vision_cfg: { pool_type: 'avg' } } }, { name: 'x', source: 'o.json' })).message)
      .toBe('o.json: model_cfg.vision_cfg.pool_type is "avg"');
  });
});

describe('clipConfigFromShapes', () => {
  const shapes = new Map([...clipSpecs(named('test-clip'))].map(([k, s]) => [k, s.shape]));
  it('takes the heads it is given when the width is not a multiple of 64', () => {
    const c = clipConfigFromShapes(shapes, { name: 't', source: 's', heads: { vision: 2, text: 2 } });
    expect(c.vision).toMatchObject({ width: 16, heads: 2, imageSize: 8, patchSize: 4, layers: 2, mlpWidth: 64 });
    expect(c.text).toMatchObject({ width: 16, heads: 2, contextLength: 6, vocabSize: 20, layers: 2 });
  });
  it('names the missing key', () => {
    const without = new Map(shapes);
    without.delete('ln_final.weight');
    expect(caught(() => clipConfigFromShapes(without, { name: 't', source: 'f.safetensors', heads: { vision: 2, text: 2 } })).message)
      .toBe('f.safetensors: no ln_final.weight, so the config cannot be read from the tensor shapes');
  });
});
