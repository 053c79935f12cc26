import { UserError } from '@lw/core';
import type { ClipConfig } from './config.js';
import { checkedClipConfig, studyDora } from './imported-config.js';

/**
 * The config of an OpenAI-layout CLIP state dict (visual.conv1.weight, transformer.resblocks.N, ...) read
 * from its tensor shapes, as OpenAI's `clip.model.build_model` does: image width and patch from
 * visual.conv1.weight [W, 3, p, p], image size from visual.positional_embedding [(s/p)^2 + 1, W], layers by
 * counting resblocks, text width from ln_final, context from positional_embedding [ctx, Wt], vocabulary
 * from token_embedding.weight [V, Wt], embed dim from text_projection [Wt, E]. MLP widths come from
 * mlp.c_fc.weight [mlp, W] (build_model assumes 4x). Heads leave no trace in the shapes: OpenAI's rule is
 * width / 64, unless `heads` gives them. QuickGELU and LayerNorm eps 1e-5, as in OpenAI's models.
 */
export function clipConfigFromShapes(
  shapes: ReadonlyMap<string, readonly number[]>,
  opts: { name: string; source: string; heads?: { vision?: number; text?: number } },
): ClipConfig {
  const { source } = opts;
  const shape = (key: string, rank: number): readonly number[] => {
    const s = shapes.get(key);
    if (!s) throw new UserError(`${source}: no ${key}, so the config cannot be read from the tensor shapes`, 'give an OpenAI CLIP ViT state dict, or a folder with config.json (Hugging Face) or open_clip_config.json (OpenCLIP)');
    if (s.length !== rank) throw new UserError(`${source}: ${key} has shape ${JSON.stringify(s)}`, `an OpenAI CLIP ViT state dict has a rank-${rank} ${key}`);
    return s;
  };
  if (shapes.has('visual.layer1.0.conv1.weight')) {
    throw new UserError(`${source} is an OpenAI CLIP with a ModifiedResNet image tower (visual.layer1.*)`, 'only ViT image towers are read (ViT-B/32, B/16, L/14, L/14-336)');
  }
  const conv = shape('visual.conv1.weight', 4); // [W, 3, p, p]
  const [width, , patch] = conv;
  const tokens = shape('visual.positional_embedding', 2)[0]; // [(s/p)^2 + 1, W]
  const grid = Math.round(Math.sqrt(tokens - 1));
  if (grid * grid !== tokens - 1) throw new UserError(`${source}: visual.positional_embedding has ${tokens} rows`, 'expected a square grid of patches plus the class token: (image/patch)^2 + 1');
  const textWidth = shape('ln_final.weight', 1)[0];
  const [contextLength] = shape('positional_embedding', 2);
  const [vocabSize] = shape('token_embedding.weight', 2);
  const [, embedDim] = shape('text_projection', 2);
  const visionLayers = countBlocks(shapes, /^visual\.transformer\.resblocks\.(\d+)\./);
  const textLayers = countBlocks(shapes, /^transformer\.resblocks\.(\d+)\./);
  const heads = (tower: 'vision' | 'text', w: number): number => {
    const given = opts.heads?.[tower];
    if (given !== undefined) return given;
    if (w % 64 !== 0) {
      throw new UserError(`${source}: the ${tower} tower's width ${w} is not a multiple of 64, so its heads cannot be read from the shapes (OpenAI's rule: width / 64)`,
        'give the heads (train/clip-import visionHeads / textHeads; lw models inspect --vision-heads / --text-heads), a named config, or keep the checkpoint beside the open_clip_config.json or config.json it came with');
    }
    return w / 64;
  };
  return checkedClipConfig({
    kind: 'clip', name: opts.name, embedDim,
    vision: {
      layout: 'clip', imageSize: grid * patch, patchSize: patch, width, layers: visionLayers, heads: heads('vision', width),
      mlpWidth: shape('visual.transformer.resblocks.0.mlp.c_fc.weight', 2)[0], lnEps: 1e-5, activation: 'quick_gelu',
    },
    text: {
      vocabSize, contextLength, width: textWidth, layers: textLayers, heads: heads('text', textWidth),
      mlpWidth: shape('transformer.resblocks.0.mlp.c_fc.weight', 2)[0], tokenizer: 'bpe', activation: 'quick_gelu', lnEps: 1e-5,
    },
    dora: studyDora(visionLayers, textLayers),
  }, source);
}

/** Number of blocks: highest block index + 1 among the keys matching `re`. */
function countBlocks(shapes: ReadonlyMap<string, readonly number[]>, re: RegExp): number {
  let n = 0;
  for (const k of shapes.keys()) {
    const m = re.exec(k);
    if (m) n = Math.max(n, Number(m[1]) + 1);
  }
  return n;
}
