import type { VitConfig } from './config.js';
import { linear } from './layers.js';
import { initParams, type ParamSpec, type ParamStore } from './params.js';
import { tf } from './tf.js';
import { VisionTransformer, vitSpecs } from './vit.js';

/**
 * timm ViT classifier (vit_base_patch16_224 layout, exact GELU, LayerNorm eps 1e-6) for training from
 * scratch (method §7). Init as timm's default: trunc_normal(.02) for Linear weights and pos_embed,
 * normal(1e-6) for cls_token, PyTorch's default for the patch conv, zero biases, LN ones/zeros;
 * each tensor from `Rng(seed, 'init', name)`.
 */
export function vitClassifierSpecs(config: VitConfig, numClasses: number): Map<string, ParamSpec> {
  const specs = vitSpecs(config.vision, '');
  specs.set('head.weight', { shape: [numClasses, config.vision.width], init: { kind: 'trunc_normal', std: 0.02 } });
  specs.set('head.bias', { shape: [numClasses], init: { kind: 'zeros' } });
  return specs;
}

export interface VitClassifier {
  readonly config: VitConfig;
  readonly params: ParamStore;
  /** Every weight as a trainable tf.Variable, by timm key name. */
  readonly variables: Map<string, tf.Variable>;
  readonly vit: VisionTransformer;
  /** images [B, H, W, 3] -> logits [B, C] and features [B, W] (final-norm CLS, the RSA features). */
  forward(images: tf.Tensor4D, opts?: { blockCls?: boolean }): { logits: tf.Tensor2D; features: tf.Tensor2D; blockCls?: tf.Tensor2D[] };
  dispose(): void;
}

export function createVitClassifier(config: VitConfig, opts: { numClasses?: number; seed: number }): VitClassifier {
  const numClasses = opts.numClasses ?? config.numClasses;
  const cfg = { ...config, numClasses };
  return vitClassifierFromParams(cfg, initParams(vitClassifierSpecs(cfg, numClasses), opts.seed, true));
}

/** Wraps existing parameters (e.g. loaded from a checkpoint) as a classifier. */
export function vitClassifierFromParams(config: VitConfig, params: ParamStore): VitClassifier {
  const vit = new VisionTransformer(config.vision, params, '', false);
  const variables = new Map<string, tf.Variable>();
  for (const [name, t] of params.tensors) if (t instanceof tf.Variable) variables.set(name, t);
  return {
    config, params, variables, vit,
    forward(images, opts = {}) {
      const out = vit.forward(images, { blockCls: opts.blockCls });
      const logits = linear(out.cls, params.get<tf.Tensor2D>('head.weight'), params.get<tf.Tensor1D>('head.bias'), params.needsGrad('head.weight'));
      return { logits, features: out.cls, blockCls: out.blockCls };
    },
    dispose: () => params.dispose(),
  };
}
