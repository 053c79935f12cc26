import type { ClipConfig } from './config.js';
import { matMulPlain, unitRows } from './layers.js';
import { initParams, type ParamSpec, ParamStore } from './params.js';
import { TextTransformer, textSpecs } from './text.js';
import { tf } from './tf.js';
import { VisionTransformer, vitSpecs } from './vit.js';

/**
 * CLIP: image tower (ViT, OpenAI layout, prefix `visual.`), text tower, logit_scale. Parameter names
 * are OpenAI's original state-dict names; `loadClip` maps Hugging Face names onto them.
 */

/** Every parameter of a CLIP config, by OpenAI name. logit_scale starts at ln(1/0.07) as in CLIP. */
export function clipSpecs(c: ClipConfig): Map<string, ParamSpec> {
  const specs = new Map<string, ParamSpec>(vitSpecs(c.vision, 'visual.', c.embedDim));
  for (const [n, s] of textSpecs(c.text, c.embedDim)) specs.set(n, s);
  specs.set('logit_scale', { shape: [], init: { kind: 'constant', value: Math.log(1 / 0.07) } });
  return specs;
}

export class Clip {
  readonly visual: VisionTransformer;
  readonly text: TextTransformer;

  constructor(readonly config: ClipConfig, readonly params: ParamStore) {
    this.visual = new VisionTransformer(config.vision, params, 'visual.', true);
    this.text = new TextTransformer(config.text, params);
  }

  /** images [B, H, W, 3] NHWC normalised -> [B, embed]. */
  encodeImage(images: tf.Tensor4D): tf.Tensor2D {
    return this.visual.forward(images).cls;
  }

  /** tokens [P, ctx] -> [P, embed]. */
  encodeText(tokens: Int32Array): tf.Tensor2D {
    return this.text.encodeText(tokens);
  }

  /** Input of text block k. tokens [P, ctx] -> [P, L, Wt], L = last EOT position + 1. */
  textBlockInput(tokens: Int32Array, k: number): tf.Tensor3D {
    return this.text.textBlockInput(tokens, k);
  }

  /** Text blocks k..end + head from the frozen prefix x (no gradient flows into it). x [P, L, Wt] -> [P, embed]. */
  forwardTextFrom(k: number, x: tf.Tensor3D, tokens: Int32Array): tf.Tensor2D {
    return this.text.forwardTextFrom(k, x, tokens, false);
  }

  /** exp(logit_scale) · cos(image i, text j). [B, E] x [P, E] -> [B, P]. */
  logits(imageFeatures: tf.Tensor2D, textFeatures: tf.Tensor2D): tf.Tensor2D {
    return cosineLogits(imageFeatures, textFeatures, this.params.get<tf.Scalar>('logit_scale'));
  }

  /** Number of scalars. */
  parameterCount(): number {
    return this.params.count();
  }

  dispose(): void {
    this.text.dispose();
    this.params.dispose();
  }
}

/** exp(logitScale) · normalize(a) · normalize(b)ᵀ. a [B, E], b [P, E] -> [B, P]. */
export function cosineLogits(a: tf.Tensor2D, b: tf.Tensor2D, logitScale: tf.Scalar): tf.Tensor2D {
  // b is small ([66, E]): an explicit transpose keeps the matMul plain.
  return tf.mul(tf.exp(logitScale), matMulPlain(unitRows(a), tf.transpose(unitRows(b)) as tf.Tensor2D)) as tf.Tensor2D;
}

/** A CLIP with fresh weights (seeded); `trainable` makes every weight a tf.Variable (pretraining). */
export function createClip(config: ClipConfig, opts: { seed: number; trainable?: boolean }): Clip {
  return new Clip(config, initParams(clipSpecs(config), opts.seed, opts.trainable ?? false));
}
