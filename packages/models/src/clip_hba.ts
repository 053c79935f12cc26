import type { Clip } from './clip.js';
import { createDora, type DoraLayer } from './dora.js';
import { tf } from './tf.js';

/**
 * CLIP-HBA (method §1): the 66-D prediction is exp(logit_scale) · cos(image feature, text feature of
 * each prompt), with DoRA on attn.out_proj of chosen vision and text blocks and everything else frozen.
 * Because only the last blocks train, training runs from cached "prefix" activations: the input of
 * the first DoRA vision block per image and of the first DoRA text block for the prompts.
 */
export interface ClipHbaOptions {
  visionDoraBlocks: number[];
  textDoraBlocks: number[];
  /** DoRA rank r (32 in the study) and alpha (16): ΔD is scaled by alpha/r. */
  rank: number;
  alpha: number;
  /** Seeds DoRA's A and B (`Rng(seed, 'dora', layerName)`). */
  seed: number;
  /** The tokenized prompts [P, ctx] (P = 66), e.g. from `ClipTokenizer.encodeBatch`. */
  prompts: Int32Array;
}

export interface ClipHba {
  readonly clip: Clip;
  /** m, delta_D_A, delta_D_B of each DoRA layer, named as the study's state dict
   *  (`clip_model.visual.transformer.resblocks.22.attn.out_proj.m`, ...). */
  readonly trainable: Map<string, tf.Variable>;
  readonly dora: DoraLayer[];
  /** Index of the first DoRA vision / text block: where the prefixes end. */
  readonly visionStart: number;
  readonly textStart: number;
  /** images [B, H, W, 3] -> [B, P] = exp(logit_scale) · cos. */
  predict(images: tf.Tensor4D): tf.Tensor2D;
  /** images [B, H, W, 3] -> [B, T, W]: input of the first DoRA vision block (frozen, no gradient). */
  visionPrefix(images: tf.Tensor4D): tf.Tensor3D;
  /** [P, L, Wt]: input of the first DoRA text block for the prompts (frozen); L = last EOT position + 1 <= ctx
   *  (later positions cannot affect any EOT feature under the causal mask, so they are not computed). */
  textPrefix(): tf.Tensor3D;
  /** [B, T, W] x [P, L, Wt] -> [B, P], differentiable w.r.t. `trainable`. */
  predictFromPrefix(visionPrefix: tf.Tensor3D, textPrefix: tf.Tensor3D): tf.Tensor2D;
  /** [P, L, Wt] -> [P, embed]: the prompts' text features from their prefix (they do not depend on images). */
  textFeatures(textPrefix: tf.Tensor3D): tf.Tensor2D;
  /** [B, T, W] x [P, embed] -> [B, P]: predictFromPrefix with the text features already computed. */
  predictWithText(visionPrefix: tf.Tensor3D, textFeatures: tf.Tensor2D): tf.Tensor2D;
  /** images [B, H, W, 3] -> [B, embed]: image features (ln_post(CLS) @ proj). */
  imageFeatures(images: tf.Tensor4D): tf.Tensor2D;
  /** Removes DoRA from the CLIP (restoring its plain weights) and frees the DoRA tensors. */
  dispose(): void;
}

/** Wraps `clip` (whose weights must be frozen tensors) in place with DoRA layers. */
export function createClipHba(clip: Clip, opts: ClipHbaOptions): ClipHba {
  const c = clip.config;
  const ctx = c.text.contextLength;
  if (opts.prompts.length === 0 || opts.prompts.length % ctx !== 0) {
    throw new Error(`createClipHba: prompts hold ${opts.prompts.length} ids, not a whole number of rows of context ${ctx}`);
  }
  for (const k of opts.visionDoraBlocks) if (k >= c.vision.layers) throw new Error(`createClipHba: vision block ${k} >= ${c.vision.layers} layers`);
  for (const k of opts.textDoraBlocks) if (k >= c.text.layers) throw new Error(`createClipHba: text block ${k} >= ${c.text.layers} layers`);
  if (opts.visionDoraBlocks.length === 0 || opts.textDoraBlocks.length === 0) {
    throw new Error('createClipHba: needs at least one DoRA vision block and one DoRA text block');
  }

  const trainable = new Map<string, tf.Variable>();
  const dora: DoraLayer[] = [];
  const wrap = (paramPrefix: string, k: number) => {
    const weightName = `${paramPrefix}transformer.resblocks.${k}.attn.out_proj.weight`;
    const name = `clip_model.${paramPrefix}transformer.resblocks.${k}.attn.out_proj`;
    const layer = createDora(name, clip.params.get<tf.Tensor2D>(weightName), opts);
    clip.params.computed.set(weightName, layer.weight);
    trainable.set(`${name}.m`, layer.m);
    trainable.set(`${name}.delta_D_A`, layer.A);
    trainable.set(`${name}.delta_D_B`, layer.B);
    dora.push(layer);
  };
  for (const k of opts.visionDoraBlocks) wrap('visual.', k);
  for (const k of opts.textDoraBlocks) wrap('', k);

  const visionStart = Math.min(...opts.visionDoraBlocks);
  const textStart = Math.min(...opts.textDoraBlocks);
  const prompts = opts.prompts;
  const textFeatures = (tp: tf.Tensor3D) => clip.forwardTextFrom(textStart, tp, prompts);
  const predictWithText = (vp: tf.Tensor3D, text: tf.Tensor2D) => clip.logits(clip.visual.forwardFrom(visionStart, vp), text);

  return {
    clip, trainable, dora, visionStart, textStart,
    predict: (images) => clip.logits(clip.visual.forward(images).cls, clip.encodeText(prompts)),
    visionPrefix: (images) => clip.visual.blockInput(images, visionStart),
    textPrefix: () => clip.textBlockInput(prompts, textStart),
    predictFromPrefix: (vp, tp) => predictWithText(vp, textFeatures(tp)),
    textFeatures,
    predictWithText,
    imageFeatures: (images) => clip.encodeImage(images),
    dispose() {
      for (const layer of dora) {
        clip.params.computed.delete(`${layer.name.replace(/^clip_model\./, '')}.weight`);
        layer.dispose();
      }
      trainable.clear();
    },
  };
}
