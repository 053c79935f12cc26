import { UserError } from '@lw/core';
import { WordTokenizer, type ClipConfig } from '@lw/models';
import type { TrainData } from './dataset.js';

/** The tokenizer a CLIP config expects, built from the data set (the toy's `vocab.txt`). */
export interface TextTokenizer {
  vocabSize: number;
  /** texts -> [N, contextLength] */
  encodeBatch(texts: string[]): Int32Array;
}

export function textTokenizer(data: TrainData, config: ClipConfig): TextTokenizer {
  if (config.text.tokenizer === 'words') {
    if (!data.vocab) throw new UserError(`${data.dir}: no vocab.txt for the word tokenizer of ${config.name}`, 'use the toy data set, or a CLIP config with the BPE tokenizer');
    const t = new WordTokenizer(data.vocab, config.text.contextLength);
    return { vocabSize: t.vocabSize, encodeBatch: (texts) => t.encodeBatch(texts) };
  }
  throw new UserError(`${config.name} needs the CLIP BPE tokenizer, which training does not load yet`, 'use tiny-clip with the toy data set');
}

/** The 66 prompts tokenized: [P, contextLength]. */
export function promptTokens(data: TrainData, config: ClipConfig, tokenizer = textTokenizer(data, config)): Int32Array {
  if (!data.prompts?.length) throw new UserError(`${data.dir}: no prompts.txt`, 'CLIP-HBA scores images against the dimension prompts of a THINGS-like set');
  return tokenizer.encodeBatch(data.prompts);
}
