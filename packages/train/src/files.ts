import { cpSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Write a file so that readers see either the old content or the whole new one: write a temporary
 * sibling, then rename (atomic on one file system). A task killed mid-write leaves no torn file.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/**
 * Copies what a training task wrote to its scratch dir during the run (checkpoints, embeddings,
 * layer_features: layer-rsa.ts's LAYER_FEATURES_DIR) into its output dir: scratch survives a crash
 * for resuming, the output dir is what gets published.
 */
export function publishScratch(scratchDir: string, outDir: string, subdirs = ['checkpoints', 'embeddings', 'layer_features']): void {
  for (const sub of subdirs) {
    const from = join(scratchDir, sub);
    if (existsSync(from)) cpSync(from, join(outDir, sub), { recursive: true });
  }
}
