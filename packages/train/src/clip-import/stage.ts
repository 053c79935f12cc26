import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { defineStage, UserError } from '@lw/core';
import { BackendName, loadClip, modelConfig, type ClipConfig } from '@lw/models';
import { z } from 'zod';
import { saveClip } from '../model-store.js';
import { backendResources, startBackend } from '../stage-backend.js';

/**
 * `train/clip-import`: a real CLIP checkpoint (OpenAI, Hugging Face or timm layout, by @lw/models'
 * key maps) as a model task, in the same layout `train/clip-pretrain` writes (config.json +
 * model.safetensors with OpenAI names; the checkpoint's own logit scale), plus its BPE tokenizer
 * files in `tokenizer/`, so `train/features` and `train/behavior` treat both alike.
 */
export const TOKENIZER_DIR = 'tokenizer';
const TOKENIZER_FILES = ['vocab.json', 'merges.txt', 'tokenizer.json'];

export const clipImportParams = z.object({
  checkpoint: z.string().describe('A .safetensors file, or a Hugging Face CLIP directory holding one'),
  config: z.string().default('clip-vit-l14').describe('Model config name of that checkpoint'),
  tokenizer: z.string().optional().describe('Tokenizer directory (vocab.json + merges.txt, or tokenizer.json) or OpenAI bpe_simple_vocab_16e6.txt.gz; default: the checkpoint directory'),
  backend: BackendName.default('auto'),
});

export const clipImportStage = defineStage({
  id: 'train/clip-import',
  description: 'Import a pretrained CLIP checkpoint and its tokenizer as a model task',
  packageName: '@lw/train',
  params: clipImportParams,
  inputs: {},
  externalPaths: (p) => [p.checkpoint, ...(p.tokenizer ? [p.tokenizer] : [])],
  resources: backendResources,
  async run(ctx) {
    const p = ctx.params;
    const backend = await startBackend(ctx, p.backend);
    const config = modelConfig(p.config);
    if (config.kind !== 'clip') throw new UserError(`params.config "${p.config}" is a ${config.kind} config`, 'use a CLIP config such as clip-vit-l14');
    const clip = loadClip(config as ClipConfig, p.checkpoint);
    saveClip(ctx.outDir, clip);
    clip.dispose();
    // BPE configs need the checkpoint's tokenizer; word-tokenizer configs take theirs from the data set.
    if ((config as ClipConfig).text.tokenizer === 'bpe' || p.tokenizer) copyTokenizer(p.tokenizer ?? p.checkpoint, join(ctx.outDir, TOKENIZER_DIR));
    return { config: config.name, backend: backend.name };
  },
});

function copyTokenizer(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  if (existsSync(from) && statSync(from).isFile()) {
    if (!/bpe_simple_vocab.*\.txt(\.gz)?$/.test(from)) throw new UserError(`${from} is not a tokenizer file`, 'give a directory with vocab.json + merges.txt or tokenizer.json, or bpe_simple_vocab_16e6.txt.gz');
    copyFileSync(from, join(to, basename(from)));
    return;
  }
  const present = TOKENIZER_FILES.filter((f) => existsSync(join(from, f)));
  if (!present.length) throw new UserError(`no tokenizer files in ${from}`, 'set params.tokenizer to a directory with vocab.json + merges.txt or tokenizer.json');
  for (const f of present) copyFileSync(join(from, f), join(to, f));
}
