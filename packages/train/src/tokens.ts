import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@lw/core';
import { ClipTokenizer, WordTokenizer, type ClipConfig } from '@lw/models';
import type { TrainData } from './dataset.js';

/** The tokenizer a CLIP config expects, built from the data set (the toy's `vocab.txt`). */
export interface TextTokenizer {
  vocabSize: number;
  /** texts -> [N, contextLength] */
  encodeBatch(texts: string[]): Int32Array;
}

/**
 * The tokenizer a CLIP config expects: the toy's word tokenizer from the data set's `vocab.txt`, or
 * CLIP's BPE from the `tokenizer/` folder of a `train/clip-import` model directory.
 */
export function textTokenizer(data: TrainData, config: ClipConfig, modelDir?: string): TextTokenizer {
  if (config.text.tokenizer === 'words') {
    if (!data.vocab) throw new UserError(`${data.dir}: no vocab.txt for the word tokenizer of ${config.name}`, 'use the toy data set, or a CLIP config with the BPE tokenizer');
    const t = new WordTokenizer(data.vocab, config.text.contextLength);
    return { vocabSize: t.vocabSize, encodeBatch: (texts) => t.encodeBatch(texts) };
  }
  const dir = modelDir ? join(modelDir, 'tokenizer') : undefined;
  if (!dir || !existsSync(dir)) throw new UserError(`${config.name} needs the CLIP BPE tokenizer: no tokenizer/ folder in ${modelDir ?? 'the model input'}`, 'import the checkpoint with train/clip-import (it copies the tokenizer files)');
  const openAi = readdirSync(dir).find((f) => /bpe_simple_vocab.*\.txt(\.gz)?$/.test(f));
  const t = ClipTokenizer.fromPath(openAi ? join(dir, openAi) : dir, config.text.contextLength);
  return { vocabSize: t.vocabSize, encodeBatch: (texts) => t.encodeBatch(texts) };
}

/** The 66 prompts tokenized: [P, contextLength]. */
export function promptTokens(data: TrainData, config: ClipConfig, modelDir?: string): Int32Array {
  const tokenizer = textTokenizer(data, config, modelDir);
  if (!data.prompts?.length) throw new UserError(`${data.dir}: no prompts.txt`, 'CLIP-HBA scores images against the dimension prompts of a THINGS-like set');
  return tokenizer.encodeBatch(data.prompts);
}
