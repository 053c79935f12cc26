import { createClip, createClipHba, modelConfig, type ClipConfig } from '@lw/models';

/**
 * Trainable scalars of CLIP-HBA for a model config: m, delta_D_A and delta_D_B of every DoRA layer
 * (method §1.2: 183,040 for clip-vit-l14 with DoRA on vision blocks 22-23 and text block 11, rank 32).
 * Computed from shapes; building the full model is needed only to check the wiring.
 */
export function trainableCount(name: string): number {
  const c = modelConfig(name) as ClipConfig;
  const vision = c.dora.visionBlocks.length * (c.vision.width + 2 * c.dora.rank * c.vision.width);
  const text = c.dora.textBlocks.length * (c.text.width + 2 * c.dora.rank * c.text.width);
  return vision + text;
}

/** The same count from a built CLIP-HBA (its trainable variables), for configs small enough to build. */
export function builtTrainableCount(name: string, prompts: Int32Array): number {
  const clip = createClip(modelConfig(name) as ClipConfig, { seed: 0 });
  const c = clip.config;
  const hba = createClipHba(clip, { visionDoraBlocks: c.dora.visionBlocks, textDoraBlocks: c.dora.textBlocks, rank: c.dora.rank, alpha: c.dora.alpha, seed: 0, prompts });
  let n = 0;
  for (const v of hba.trainable.values()) n += v.size;
  hba.dispose();
  clip.dispose();
  return n;
}
