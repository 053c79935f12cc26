import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { defineStage, UserError } from '@lw/core';
import { BackendName, ClipTokenizer, type ClipConfig, findClipCheckpoint, loadClipCheckpoint, modelConfig } from '@lw/models';
import { z } from 'zod';
import { saveClip } from '../model-store.js';
import { backendResources, startBackend } from '../stage-backend.js';

/**
 * `train/clip-import`: a pretrained CLIP checkpoint as a model task, in the layout `train/clip-pretrain`
 * writes (config.json + model.safetensors with OpenAI names; the checkpoint's own logit scale), plus its
 * BPE tokenizer files in `tokenizer/`, so `train/features` and `train/behavior` treat both alike.
 *
 * It reads (@lw/models findClipCheckpoint), with `config: auto` the checkpoint's own config:
 *  - a Hugging Face CLIPModel folder (save_pretrained): config.json (model_type "clip") + model.safetensors;
 *  - an OpenCLIP folder: open_clip_config.json + open_clip_model.safetensors (OpenAI key names);
 *  - an OpenAI CLIP state dict as one .safetensors file (visual.conv1.weight, ...): the config from its tensor
 *    shapes, heads = width / 64 unless visionHeads / textHeads give them, QuickGELU, LayerNorm eps 1e-5;
 *  - a model task of this tool (config.json with kind "clip").
 * A named config (clip-vit-l14, ...) is still accepted, and checked against the weights: a mismatch names the
 * first missing or ill-shaped key. Where the checkpoint's own config can be read, the named one must also
 * agree with it on what the shapes do not show (heads, activation, LayerNorm eps). Weights are read from .safetensors only. Not timm ViTs: those are
 * `train/vit-import`'s.
 */
export const TOKENIZER_DIR = 'tokenizer';
const TOKENIZER_FILES = ['vocab.json', 'merges.txt', 'tokenizer.json'];

const heads = z.number().int().positive().optional();
export const clipImportParams = z.object({
  checkpoint: z.string().describe('A Hugging Face CLIPModel folder (config.json + model.safetensors), an OpenCLIP folder (open_clip_config.json + open_clip_model.safetensors), or an OpenAI CLIP state dict .safetensors'),
  config: z.string().default('auto').describe('"auto": the checkpoint\'s own config (config.json, open_clip_config.json, or the tensor shapes of a bare state dict); or a named model config, checked against the weights'),
  visionHeads: heads.describe('Image tower heads of a bare OpenAI state dict whose width is not a multiple of 64 (the shapes do not show them)'),
  textHeads: heads.describe('Text tower heads of a bare OpenAI state dict whose width is not a multiple of 64'),
  tokenizer: z.string().optional().describe('Tokenizer directory (vocab.json + merges.txt, or tokenizer.json) or OpenAI bpe_simple_vocab_16e6.txt.gz; default: the checkpoint\'s folder'),
  backend: BackendName.default('auto'),
});

export const clipImportStage = defineStage({
  id: 'train/clip-import',
  description: 'Import a pretrained CLIP checkpoint (Hugging Face, OpenCLIP or OpenAI layout) and its tokenizer as a model task',
  packageName: '@lw/train',
  params: clipImportParams,
  inputs: {},
  externalPaths: (p) => [p.checkpoint, ...(p.tokenizer ? [p.tokenizer] : [])],
  resources: backendResources,
  async run(ctx) {
    const p = ctx.params;
    const backend = await startBackend(ctx, p.backend);
    let named: ClipConfig | undefined;
    if (p.config !== 'auto') {
      const c = modelConfig(p.config);
      if (c.kind !== 'clip') throw new UserError(`params.config "${p.config}" is a ${c.kind} config`, 'use "auto" or a CLIP config such as clip-vit-l14');
      named = c;
    }
    const heads = { vision: p.visionHeads, text: p.textHeads };
    const { clip, found } = loadClipCheckpoint(p.checkpoint, { config: named, heads });
    try {
      // After the weights check, so that a config of other sizes is told by its first ill-shaped key.
      if (named) checkAgainstOwnConfig(p.checkpoint, named, heads);
      // BPE configs need the checkpoint's tokenizer; word-tokenizer configs take theirs from the data set.
      if (found.config.text.tokenizer === 'bpe' || p.tokenizer) {
        const to = join(ctx.outDir, TOKENIZER_DIR);
        copyTokenizer(p.tokenizer ?? dirname(found.file), to);
        if (found.config.text.tokenizer === 'bpe') checkVocabulary(to, found.config, p.tokenizer ?? dirname(found.file));
      }
      saveClip(ctx.outDir, clip);
    } finally {
      clip.dispose();
    }
    ctx.log(`${found.file}: ${found.layout} layout, config from ${found.configSource}`);
    return { config: found.config.name, layout: found.layout, configSource: found.configSource, backend: backend.name };
  },
});

/** Fields the weights' shapes do not show: a named config that differs there would load and compute wrongly. */
const UNSEEN: Array<['vision' | 'text', 'heads' | 'activation' | 'lnEps']> = [
  ['vision', 'heads'], ['vision', 'activation'], ['vision', 'lnEps'], ['text', 'heads'], ['text', 'activation'], ['text', 'lnEps'],
];

function checkAgainstOwnConfig(checkpoint: string, named: ClipConfig, heads: { vision?: number; text?: number }): void {
  let own;
  try {
    own = findClipCheckpoint(checkpoint, { heads });
  } catch {
    return; // no readable config of its own (e.g. HF weights without config.json): the weights check is all there is
  }
  for (const [tower, field] of UNSEEN) {
    if (own.config[tower][field] !== named[tower][field]) {
      throw new UserError(`params.config "${named.name}" has ${tower}.${field} ${JSON.stringify(named[tower][field])}, but ${own.configSource} gives ${JSON.stringify(own.config[tower][field])}`,
        'use config: auto to import the checkpoint with its own config');
    }
  }
}

function copyTokenizer(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  if (existsSync(from) && statSync(from).isFile()) {
    if (!/bpe_simple_vocab.*\.txt(\.gz)?$/.test(from)) throw new UserError(`${from} is not a tokenizer file`, 'give a directory with vocab.json + merges.txt or tokenizer.json, or bpe_simple_vocab_16e6.txt.gz');
    copyFileSync(from, join(to, basename(from)));
    return;
  }
  const present = existsSync(from) ? TOKENIZER_FILES.filter((f) => existsSync(join(from, f))) : [];
  if (!present.length) throw new UserError(`no tokenizer files in ${from}`, 'set params.tokenizer to a directory with vocab.json + merges.txt or tokenizer.json');
  for (const f of present) copyFileSync(join(from, f), join(to, f));
}

/** A BPE vocabulary larger than the text tower's embedding would give ids past its last row. */
function checkVocabulary(dir: string, config: ClipConfig, from: string): void {
  const openAi = readdirSync(dir).find((f) => /bpe_simple_vocab.*\.txt(\.gz)?$/.test(f));
  const tokenizer = ClipTokenizer.fromPath(openAi ? join(dir, openAi) : dir, config.text.contextLength);
  if (tokenizer.vocabSize > config.text.vocabSize) {
    throw new UserError(`the tokenizer in ${from} has ${tokenizer.vocabSize} tokens, but the text tower of ${config.name} embeds ${config.text.vocabSize}`,
      'give the tokenizer the checkpoint was trained with (params.tokenizer)');
  }
}
