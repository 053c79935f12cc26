import { conv2dIm2colGrad, hasConvFilterGrad } from './conv-grad.js';
import { linear } from './layers.js';
import { initParams, type ParamSpec, type ParamStore } from './params.js';
import { blockExpansion, resnetFeatureWidth, type ResnetConfig } from './resnet-config.js';
import { tf } from './tf.js';

/**
 * torchvision/timm ResNet (the two share key names: conv1, bn1, layer{s}.{i}.conv1/bn1/..., downsample.0/1, fc),
 * NHWC throughout. Conv weights are stored HWIO [kh, kw, in, out], the layout tfjs' conv2d takes (checkpoints
 * hold OIHW; the loader transposes); fc.weight stays PyTorch's [out, in].
 *
 * BatchNorm as PyTorch's BatchNorm2d (eps 1e-5, momentum 0.1): eval normalises with the running statistics;
 * training with the batch's mean and biased variance, and moves running_mean/var 10% towards the batch mean
 * and UNBIASED variance (n / (n - 1), n = B·H·W). The running statistics are non-trainable state, kept as
 * tf.Variables beside the trainable weights and saved with them.
 */
export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

/** One residual block: its key prefix (`layer2.0`), channels and stride, and whether it has a projection shortcut. */
export interface ResnetBlockPlan {
  prefix: string;
  inChannels: number;
  planes: number;
  outChannels: number;
  stride: number;
  downsample: boolean;
}

/** The blocks stage by stage, as torchvision's `_make_layer` builds them (downsample when stride ≠ 1 or channels change). */
export function resnetPlan(config: ResnetConfig): ResnetBlockPlan[][] {
  const expansion = blockExpansion(config.block);
  let inChannels = config.stemWidth;
  return config.layers.map((n, s) => Array.from({ length: n }, (_, i) => {
    const planes = config.widths[s], outChannels = planes * expansion;
    const stride = i === 0 && s > 0 ? 2 : 1;
    const plan = { prefix: `layer${s + 1}.${i}`, inChannels, planes, outChannels, stride, downsample: i === 0 && (stride !== 1 || inChannels !== outChannels) };
    inChannels = outChannels;
    return plan;
  }));
}

// torchvision's init: kaiming_normal_(mode='fan_out', nonlinearity='relu') for convs, std √(2 / (out·kh·kw)).
const convSpec = (k: number, cin: number, cout: number): ParamSpec => ({ shape: [k, k, cin, cout], init: { kind: 'normal', std: Math.sqrt(2 / (cout * k * k)) } });

/** Trainable weights (`params`) and BatchNorm running statistics (`state`), by checkpoint name. */
export function resnetSpecs(config: ResnetConfig, numClasses = config.numClasses): { params: Map<string, ParamSpec>; state: Map<string, ParamSpec> } {
  const params = new Map<string, ParamSpec>(), state = new Map<string, ParamSpec>();
  const bn = (name: string, c: number) => {
    params.set(`${name}.weight`, { shape: [c], init: { kind: 'ones' } });
    params.set(`${name}.bias`, { shape: [c], init: { kind: 'zeros' } });
    state.set(`${name}.running_mean`, { shape: [c], init: { kind: 'zeros' } });
    state.set(`${name}.running_var`, { shape: [c], init: { kind: 'ones' } });
  };
  params.set('conv1.weight', convSpec(7, 3, config.stemWidth));
  bn('bn1', config.stemWidth);
  for (const b of resnetPlan(config).flat()) {
    if (config.block === 'basic') {
      params.set(`${b.prefix}.conv1.weight`, convSpec(3, b.inChannels, b.planes));
      bn(`${b.prefix}.bn1`, b.planes);
      params.set(`${b.prefix}.conv2.weight`, convSpec(3, b.planes, b.planes));
      bn(`${b.prefix}.bn2`, b.planes);
    } else {
      params.set(`${b.prefix}.conv1.weight`, convSpec(1, b.inChannels, b.planes));
      bn(`${b.prefix}.bn1`, b.planes);
      params.set(`${b.prefix}.conv2.weight`, convSpec(3, b.planes, b.planes));
      bn(`${b.prefix}.bn2`, b.planes);
      params.set(`${b.prefix}.conv3.weight`, convSpec(1, b.planes, b.outChannels));
      bn(`${b.prefix}.bn3`, b.outChannels);
    }
    if (b.downsample) {
      params.set(`${b.prefix}.downsample.0.weight`, convSpec(1, b.inChannels, b.outChannels));
      bn(`${b.prefix}.downsample.1`, b.outChannels);
    }
  }
  // nn.Linear's default: U(±1/√fan_in) for weight and bias.
  const width = resnetFeatureWidth(config), bound = 1 / Math.sqrt(width);
  params.set('fc.weight', { shape: [numClasses, width], init: { kind: 'uniform', bound } });
  params.set('fc.bias', { shape: [numClasses], init: { kind: 'uniform', bound } });
  return { params, state };
}

export interface ResnetForwardOptions {
  /** BatchNorm with batch statistics, updating the running statistics (PyTorch's train mode); default eval. */
  training?: boolean;
  /** Also return each stage's output, globally average-pooled (for layer-wise RSA). */
  stagePooled?: boolean;
}

export interface ResnetOutput {
  logits: tf.Tensor2D;
  /** Global average pool of layer4's output [B, F], the fc input: the RSA features. */
  features: tf.Tensor2D;
  /** [B, w_s] per stage s = 1..4 (w_s = widths[s]·expansion), when asked for. */
  stagePooled?: tf.Tensor2D[];
}

export class Resnet {
  /** Trainable weights as tf.Variables (or frozen tensors), by checkpoint name. */
  readonly variables = new Map<string, tf.Variable>();
  readonly plan: ResnetBlockPlan[][];
  readonly featureWidth: number;

  /** `state`: running_mean / running_var of every BatchNorm, non-trainable variables. */
  constructor(readonly config: ResnetConfig, readonly params: ParamStore, readonly state: Map<string, tf.Variable>) {
    for (const [name, t] of params.tensors) if (t instanceof tf.Variable) this.variables.set(name, t);
    this.plan = resnetPlan(config);
    this.featureWidth = resnetFeatureWidth(config);
  }

  /** images [B, H, W, 3] -> logits [B, C], pooled features [B, F] and (asked for) per-stage pooled outputs. */
  forward(images: tf.Tensor4D, opts: ResnetForwardOptions = {}): ResnetOutput {
    const training = opts.training ?? false;
    const bn = (x: tf.Tensor4D, name: string) => this.batchNorm(x, name, training);
    let x = tf.relu(bn(this.conv(images, 'conv1', 2, 3), 'bn1')) as tf.Tensor4D;
    // MaxPool2d(3, 2, padding=1) pads with -inf; after the ReLU every value is >= 0, so zero padding is the same.
    x = tf.maxPool(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), 3, 2, 'valid');
    const stagePooled: tf.Tensor2D[] = [];
    for (const stage of this.plan) {
      for (const b of stage) x = this.block(x, b, bn);
      if (opts.stagePooled) stagePooled.push(tf.mean(x, [1, 2]) as tf.Tensor2D);
    }
    const features = tf.mean(x, [1, 2]) as tf.Tensor2D; // [B, F]
    const logits = linear(features, this.params.get<tf.Tensor2D>('fc.weight'), this.params.get<tf.Tensor1D>('fc.bias'), this.params.needsGrad('fc.weight'));
    return { logits, features, ...(opts.stagePooled ? { stagePooled } : {}) };
  }

  private block(x: tf.Tensor4D, b: ResnetBlockPlan, bn: (x: tf.Tensor4D, name: string) => tf.Tensor4D): tf.Tensor4D {
    const p = b.prefix;
    let out: tf.Tensor4D;
    if (this.config.block === 'basic') {
      out = tf.relu(bn(this.conv(x, `${p}.conv1`, b.stride, 1), `${p}.bn1`));
      out = bn(this.conv(out, `${p}.conv2`, 1, 1), `${p}.bn2`);
    } else {
      out = tf.relu(bn(this.conv(x, `${p}.conv1`, 1, 0), `${p}.bn1`));
      out = tf.relu(bn(this.conv(out, `${p}.conv2`, b.stride, 1), `${p}.bn2`));
      out = bn(this.conv(out, `${p}.conv3`, 1, 0), `${p}.bn3`);
    }
    const identity = b.downsample ? bn(this.conv(x, `${p}.downsample.0`, b.stride, 0), `${p}.downsample.1`) : x;
    return tf.relu(tf.add(out, identity)) as tf.Tensor4D;
  }

  /** PyTorch Conv2d(bias=False) with symmetric zero padding `pad`: x [B, H, W, Cin] -> [B, H', W', Cout]. */
  private conv(x: tf.Tensor4D, name: string, stride: number, pad: number): tf.Tensor4D {
    const w = this.params.get<tf.Tensor4D>(`${name}.weight`); // [kh, kw, in, out]
    // A trainable conv on a backend without Conv2DBackpropFilter (wasm) takes its filter gradient from im2col.
    const im2col = this.params.needsGrad(`${name}.weight`) && !hasConvFilterGrad();
    // tfjs' 'same' pads asymmetrically at stride 2 (0 before, 1 after); it equals PyTorch's only at stride 1.
    if (!im2col && stride === 1 && pad === (w.shape[0] - 1) / 2) return tf.conv2d(x, w, 1, 'same');
    const xp = pad ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : x;
    return im2col ? conv2dIm2colGrad(xp, w, stride) : tf.conv2d(xp, w, stride, 'valid');
  }

  private batchNorm(x: tf.Tensor4D, name: string, training: boolean): tf.Tensor4D {
    const gamma = this.params.get<tf.Tensor1D>(`${name}.weight`), beta = this.params.get<tf.Tensor1D>(`${name}.bias`);
    const runMean = this.state.get(`${name}.running_mean`)!, runVar = this.state.get(`${name}.running_var`)!;
    if (!training) {
      const scale = tf.mul(gamma, tf.rsqrt(tf.add(runVar, BN_EPS))); // [C]
      return tf.add(tf.mul(x, scale), tf.sub(beta, tf.mul(runMean, scale)));
    }
    const { mean, variance } = tf.moments(x, [0, 1, 2]); // [C], biased
    const n = x.size / x.shape[3];
    // assign shares the new tensor's data, so the update outlives this scope; no gradient flows into it.
    runMean.assign(tf.add(tf.mul(runMean, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM)));
    runVar.assign(tf.add(tf.mul(runVar, 1 - BN_MOMENTUM), tf.mul(variance, (BN_MOMENTUM * n) / Math.max(1, n - 1))));
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, BN_EPS))); // [C]
    return tf.add(tf.mul(tf.sub(x, mean), scale), beta);
  }

  dispose(): void {
    this.params.dispose();
    for (const v of this.state.values()) v.dispose();
    this.state.clear();
  }
}

/** Non-trainable variables from plain tensors (the running statistics). */
export function stateVariables(tensors: Map<string, tf.Tensor>): Map<string, tf.Variable> {
  const state = new Map<string, tf.Variable>();
  for (const [name, t] of tensors) {
    state.set(name, tf.variable(t, false));
    t.dispose();
  }
  return state;
}

/** A fresh ResNet initialised as torchvision does, each tensor from `Rng(seed, 'init', name)`. */
export function createResnet(config: ResnetConfig, opts: { numClasses?: number; seed: number }): Resnet {
  const cfg = { ...config, numClasses: opts.numClasses ?? config.numClasses };
  const specs = resnetSpecs(cfg);
  const state = initParams(specs.state, opts.seed, false);
  return new Resnet(cfg, initParams(specs.params, opts.seed, true), stateVariables(state.tensors));
}
