import { basename, dirname, extname } from 'node:path';
import { UserError } from '@lw/core';
import { ClipConfig, type DoraConfig } from './config.js';

/**
 * What every imported CLIP config shares, whichever file it is read from: DoRA where the study puts it
 * (method §1.2-1.3: the last two image blocks and the last text block, rank 32, alpha 16, as the named
 * configs have it) and a name taken from the checkpoint's path.
 */
export function studyDora(visionLayers: number, textLayers: number): DoraConfig {
  return {
    visionBlocks: [visionLayers - 2, visionLayers - 1].filter((k) => k >= 0),
    textBlocks: [textLayers - 1],
    rank: 32,
    alpha: 16,
  };
}

/**
 * A config name for a checkpoint path: the folder's name, or the file's without extension. A Hugging Face
 * cache path (models--openai--clip-vit-base-patch32/snapshots/<hash>) gives the repository's name.
 */
export function checkpointName(path: string, isFolder: boolean): string {
  const folder = isFolder ? path.replace(/[/\\]+$/, '') : dirname(path);
  const cache = /models--[^/\\]+?--([^/\\]+)[/\\]snapshots[/\\][^/\\]+$/.exec(folder);
  if (cache) return cache[1];
  return isFolder ? basename(folder) : basename(path, extname(path));
}

/** Validates a config built by a reader; a failure names the file it came from. */
export function checkedClipConfig(c: ClipConfig, source: string): ClipConfig {
  const r = ClipConfig.safeParse(c);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new UserError(`${source} gives an invalid CLIP config: ${issues}`, 'check the file against the checkpoint it came with');
  }
  return r.data;
}
