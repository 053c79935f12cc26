import { clipSpecs } from './clip.js';
import type { ModelConfig } from './config.js';
import type { ParamSpec } from './params.js';
import { resnetSpecs } from './resnet.js';
import { vitClassifierSpecs } from './vit_classifier.js';

/** Parameter counts of a config, computed from shapes alone (nothing is allocated). */
export interface ModelSummary {
  name: string;
  /** Parameter count per module (blocks grouped), in state-dict order. */
  rows: { module: string; params: number }[];
  total: number;
  trainable: number;
}

const size = (s: ParamSpec) => s.shape.reduce((a, b) => a * b, 1);

/** Module of a parameter name: the name up to its block index, or its first part(s). */
function moduleOf(name: string): string {
  const block = /^(.*?(?:resblocks|blocks)\.\d+)\./.exec(name);
  if (block) return block[1];
  const parts = name.split('.');
  return parts.length > 2 ? parts.slice(0, 2).join('.') : parts[0];
}

/**
 * With `dora` (CLIP only), the model is CLIP-HBA: all CLIP weights frozen, plus m [out], A [r, out],
 * B [in, r] per DoRA out_proj (config.dora) as the only trainable parameters. Without it, every
 * parameter is trainable (CLIP pretraining, ViT training).
 */
export function summarize(config: ModelConfig, opts: { dora?: boolean } = {}): ModelSummary {
  // A ResNet's running statistics are state, not parameters: only its trainable weights are counted.
  const specs = config.kind === 'clip' ? clipSpecs(config) : config.kind === 'resnet' ? resnetSpecs(config).params : vitClassifierSpecs(config, config.numClasses);
  const rows: { module: string; params: number }[] = [];
  let total = 0;
  for (const [name, spec] of specs) {
    const mod = moduleOf(name), n = size(spec);
    total += n;
    const last = rows[rows.length - 1];
    if (last?.module === mod) last.params += n;
    else rows.push({ module: mod, params: n });
  }
  if (!opts.dora || config.kind !== 'clip') return { name: config.name, rows, total, trainable: total };
  const { rank: r, visionBlocks, textBlocks } = config.dora;
  let trainable = 0;
  const add = (prefix: string, width: number) => {
    const n = width + r * width + width * r;
    rows.push({ module: `${prefix}.attn.out_proj (DoRA m, delta_D_A, delta_D_B)`, params: n });
    trainable += n;
  };
  for (const k of visionBlocks) add(`clip_model.visual.transformer.resblocks.${k}`, config.vision.width);
  for (const k of textBlocks) add(`clip_model.transformer.resblocks.${k}`, config.text.width);
  return { name: config.name, rows, total: total + trainable, trainable };
}
