import { UserError } from '@lw/core';
import {
  createResnet, createVitClassifier, tf, type Resnet, type ResnetConfig, type VitClassifier, type VitConfig,
} from '@lw/models';

/**
 * What train/classify trains: a ViT (timm layout) or a ResNet behind one interface, so the loop does
 * not branch on the architecture. `variables` are the trainable weights (by checkpoint name);
 * `state` the non-trainable ones (BatchNorm running statistics; none in a ViT), saved in every
 * checkpoint beside the weights.
 */
export type ClassifierConfig = VitConfig | ResnetConfig;

export interface LayerFeatures {
  name: string;
  /** [B, D] pooled per layer. */
  features: tf.Tensor2D;
}

export interface Classifier {
  readonly config: ClassifierConfig;
  readonly numClasses: number;
  /** Width D of `features` (the RSA features). */
  readonly featureWidth: number;
  readonly variables: Map<string, tf.Variable>;
  readonly state: Map<string, tf.Variable>;
  /** The classification head's weights: re-initialised when a start checkpoint has another class count. */
  readonly headNames: readonly string[];
  /**
   * images [B, H, W, 3] -> logits [B, C] and features [B, D] (ViT: final-norm CLS; ResNet: global
   * average pool of the last stage). `training`: BatchNorm on batch statistics, updating the running
   * statistics (ResNet); default eval (running statistics). A ViT has no mode-dependent layers.
   */
  forward(images: tf.Tensor4D, opts?: { training?: boolean }): { logits: tf.Tensor2D; features: tf.Tensor2D };
  /**
   * Eval-mode features per layer, input side first; the last entry equals `features`.
   * ViT: the CLS token after each block (block0..), then the final-norm CLS (`norm`);
   * ResNet: the global-average-pooled output of each stage (layer1..layer4).
   */
  layerFeatures(images: tf.Tensor4D): LayerFeatures[];
  dispose(): void;
}

export function vitAsClassifier(vit: VitClassifier): Classifier {
  return {
    config: vit.config, numClasses: vit.config.numClasses, featureWidth: vit.config.vision.width,
    variables: vit.variables, state: new Map(), headNames: ['head.weight', 'head.bias'],
    forward: (images) => {
      const { logits, features } = vit.forward(images);
      return { logits, features };
    },
    layerFeatures: (images) => {
      const out = vit.forward(images, { blockCls: true });
      return [...out.blockCls!.map((features, k) => ({ name: `block${k}`, features })), { name: 'norm', features: out.features }];
    },
    dispose: () => vit.dispose(),
  };
}

export function resnetAsClassifier(net: Resnet): Classifier {
  return {
    config: net.config, numClasses: net.config.numClasses, featureWidth: net.featureWidth,
    variables: net.variables, state: net.state, headNames: ['fc.weight', 'fc.bias'],
    forward: (images, opts = {}) => {
      const { logits, features } = net.forward(images, { training: opts.training ?? false });
      return { logits, features };
    },
    layerFeatures: (images) => net.forward(images, { stagePooled: true }).stagePooled!.map((features, s) => ({ name: `layer${s + 1}`, features })),
    dispose: () => net.dispose(),
  };
}

/** A freshly initialised classifier of `config` with `numClasses` outputs, each tensor from `Rng(seed, 'init', name)`. */
export function createClassifier(config: ClassifierConfig, opts: { numClasses: number; seed: number }): Classifier {
  return config.kind === 'vit'
    ? vitAsClassifier(createVitClassifier(config, opts))
    : resnetAsClassifier(createResnet(config, opts));
}

/** The non-trainable state's current values (asynchronously: webgpu in Node cannot read synchronously). */
export async function stateValues(model: Classifier): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, v] of model.state) out.set(name, Float32Array.from((await v.data()) as Float32Array));
  return out;
}

/** Sets the state from a checkpoint's, which must hold exactly the model's names and sizes. */
export function loadState(model: Classifier, values: Map<string, Float32Array> | undefined, source: string): void {
  const given = values ?? new Map<string, Float32Array>();
  const missing = [...model.state.keys()].filter((k) => !given.has(k));
  const extra = [...given.keys()].filter((k) => !model.state.has(k));
  const wrong = [...model.state].filter(([k, v]) => given.has(k) && given.get(k)!.length !== v.size).map(([k]) => k);
  if (missing.length || extra.length || wrong.length) {
    const list = (xs: string[]) => xs.slice(0, 10).join(', ') + (xs.length > 10 ? ', ...' : '') || 'none';
    throw new UserError(`${source}: model state (BatchNorm running statistics) does not match the model (missing: ${list(missing)}; unexpected: ${list(extra)}; wrong size: ${list(wrong)})`,
      'resume from a checkpoint written by the same model config');
  }
  for (const [name, v] of model.state) {
    const t = tf.tensor(given.get(name)!, v.shape, 'float32');
    v.assign(t);
    t.dispose();
  }
}
