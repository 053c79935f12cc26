import type { VisionConfig } from './config.js';
import { type BlockShape, type BlockWeights, type FrozenLinear, layerNorm, linear, matMulPlain, residualBlock, residualBlockAt } from './layers.js';
import type { ParamSpec, ParamStore } from './params.js';
import { tf } from './tf.js';

/**
 * Vision Transformer in two state-dict layouts:
 * - `clip`: OpenAI CLIP visual (conv1 without bias, class_embedding, positional_embedding, ln_pre,
 *   transformer.resblocks.N.{ln_1, attn.in_proj_*, attn.out_proj, ln_2, mlp.c_fc, mlp.c_proj}, ln_post, proj);
 * - `timm`: vit_base_patch16_224 (patch_embed.proj with bias, cls_token, pos_embed,
 *   blocks.N.{norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}, norm).
 * Parameter names are the checkpoint names with `prefix` (`visual.` for CLIP).
 */

/** Checkpoint names of block k's weights, per layout. */
export function vitBlockNames(layout: 'clip' | 'timm', prefix: string, k: number) {
  if (layout === 'clip') {
    const p = `${prefix}transformer.resblocks.${k}.`;
    return {
      ln1: [`${p}ln_1.weight`, `${p}ln_1.bias`], qkv: [`${p}attn.in_proj_weight`, `${p}attn.in_proj_bias`],
      out: [`${p}attn.out_proj.weight`, `${p}attn.out_proj.bias`], ln2: [`${p}ln_2.weight`, `${p}ln_2.bias`],
      fc1: [`${p}mlp.c_fc.weight`, `${p}mlp.c_fc.bias`], fc2: [`${p}mlp.c_proj.weight`, `${p}mlp.c_proj.bias`],
    } as const;
  }
  const p = `${prefix}blocks.${k}.`;
  return {
    ln1: [`${p}norm1.weight`, `${p}norm1.bias`], qkv: [`${p}attn.qkv.weight`, `${p}attn.qkv.bias`],
    out: [`${p}attn.proj.weight`, `${p}attn.proj.bias`], ln2: [`${p}norm2.weight`, `${p}norm2.bias`],
    fc1: [`${p}mlp.fc1.weight`, `${p}mlp.fc1.bias`], fc2: [`${p}mlp.fc2.weight`, `${p}mlp.fc2.bias`],
  } as const;
}
export type BlockNames = ReturnType<typeof vitBlockNames>;

/** Whether any of a block's weights needs a gradient (trainable, or computed from trainables as DoRA's are). */
export function blockTrains(params: ParamStore, n: BlockNames): boolean {
  return [n.qkv, n.out, n.fc1, n.fc2, n.ln1, n.ln2].some((pair) => params.needsGrad(pair[0]));
}

/**
 * Gathers block weights from the store (computed DoRA weights included). A block with anything to
 * train runs every training step: its frozen linears are prepared once (transposed, q/k/v split)
 * and kept in the store. Fully frozen blocks (a cached prefix) are not, so their weights are not doubled.
 */
export function blockWeights(params: ParamStore, n: BlockNames): BlockWeights {
  const pair = <A extends tf.Tensor, B extends tf.Tensor>(names: readonly [string, string]): [A, B] =>
    [params.get<A>(names[0]), params.get<B>(names[1])];
  const grad = { qkv: params.needsGrad(n.qkv[0]), out: params.needsGrad(n.out[0]), fc1: params.needsGrad(n.fc1[0]), fc2: params.needsGrad(n.fc2[0]), ln1: params.needsGrad(n.ln1[0]), ln2: params.needsGrad(n.ln2[0]), outBias: params.needsGrad(n.out[1]) };
  const w: BlockWeights = { ln1: pair(n.ln1), qkv: pair(n.qkv), out: pair(n.out), ln2: pair(n.ln2), fc1: pair(n.fc1), fc2: pair(n.fc2), grad };
  if (!Object.values(grad).some(Boolean)) return w;
  w.frozen = {};
  // Rows [r0, r0 + rows) of a weight [out, in] and its bias, prepared as a FrozenLinear; a whole
  // weight is used as it is, so only its transpose is new.
  const prepare = (names: readonly [string, string], key: string, r0: number, rows: number): FrozenLinear => {
    const whole = params.get<tf.Tensor2D>(names[0]);
    const w = r0 === 0 && rows === whole.shape[0] ? whole : params.derived(names[0], `${key}.w`, (t) => tf.slice(t, [r0, 0], [rows, t.shape[1]!]) as tf.Tensor2D);
    return {
      w,
      wT: params.derived(names[0], `${key}.wT`, () => tf.transpose(w)),
      b: r0 === 0 && rows === whole.shape[0] ? params.get<tf.Tensor1D>(names[1]) : params.derived(names[1], `${key}.b`, (t) => tf.slice(t, [r0], [rows]) as tf.Tensor1D),
    };
  };
  if (!grad.qkv) {
    const W = w.qkv[0].shape[1];
    (['q', 'k', 'v'] as const).forEach((name, i) => { w.frozen![name] = prepare(n.qkv, name, i * W, W); });
  }
  if (!grad.fc1) w.frozen.fc1 = prepare(n.fc1, 'fc1', 0, w.fc1[0].shape[0]);
  if (!grad.fc2) w.frozen.fc2 = prepare(n.fc2, 'fc2', 0, w.fc2[0].shape[0]);
  return w;
}

/** Specs of one block's weights with the initialisers of the layout (CLIP: OpenAI's text-tower scheme; timm: trunc_normal .02). */
export function blockSpecs(layout: 'clip' | 'timm', n: BlockNames, width: number, mlpWidth: number, layers: number): Map<string, ParamSpec> {
  const lin = (std: number) => (layout === 'timm' ? { kind: 'trunc_normal', std: 0.02 } as const : { kind: 'normal', std } as const);
  const attnStd = width ** -0.5, projStd = width ** -0.5 * (2 * layers) ** -0.5, fcStd = (2 * width) ** -0.5;
  return new Map<string, ParamSpec>([
    [n.ln1[0], { shape: [width], init: { kind: 'ones' } }], [n.ln1[1], { shape: [width], init: { kind: 'zeros' } }],
    [n.qkv[0], { shape: [3 * width, width], init: lin(attnStd) }], [n.qkv[1], { shape: [3 * width], init: { kind: 'zeros' } }],
    [n.out[0], { shape: [width, width], init: lin(projStd) }], [n.out[1], { shape: [width], init: { kind: 'zeros' } }],
    [n.ln2[0], { shape: [width], init: { kind: 'ones' } }], [n.ln2[1], { shape: [width], init: { kind: 'zeros' } }],
    [n.fc1[0], { shape: [mlpWidth, width], init: lin(fcStd) }], [n.fc1[1], { shape: [mlpWidth], init: { kind: 'zeros' } }],
    [n.fc2[0], { shape: [width, mlpWidth], init: lin(projStd) }], [n.fc2[1], { shape: [width], init: { kind: 'zeros' } }],
  ]);
}

/** Every parameter of the trunk (and CLIP's proj [W, embedDim] when `embedDim` is given). */
export function vitSpecs(c: VisionConfig, prefix: string, embedDim?: number): Map<string, ParamSpec> {
  const W = c.width, p = c.patchSize, tokens = (c.imageSize / p) ** 2 + 1;
  const patchBound = 1 / Math.sqrt(3 * p * p); // PyTorch Conv2d default: kaiming_uniform(a=√5)
  const specs = new Map<string, ParamSpec>();
  if (c.layout === 'clip') {
    const scale = W ** -0.5;
    specs.set(`${prefix}conv1.weight`, { shape: [W, 3, p, p], init: { kind: 'uniform', bound: patchBound } });
    specs.set(`${prefix}class_embedding`, { shape: [W], init: { kind: 'normal', std: scale } });
    specs.set(`${prefix}positional_embedding`, { shape: [tokens, W], init: { kind: 'normal', std: scale } });
    specs.set(`${prefix}ln_pre.weight`, { shape: [W], init: { kind: 'ones' } });
    specs.set(`${prefix}ln_pre.bias`, { shape: [W], init: { kind: 'zeros' } });
  } else {
    specs.set(`${prefix}patch_embed.proj.weight`, { shape: [W, 3, p, p], init: { kind: 'uniform', bound: patchBound } });
    specs.set(`${prefix}patch_embed.proj.bias`, { shape: [W], init: { kind: 'uniform', bound: patchBound } });
    // timm: cls_token normal(1e-6), pos_embed trunc_normal(.02)
    specs.set(`${prefix}cls_token`, { shape: [1, 1, W], init: { kind: 'normal', std: 1e-6 } });
    specs.set(`${prefix}pos_embed`, { shape: [1, tokens, W], init: { kind: 'trunc_normal', std: 0.02 } });
  }
  for (let k = 0; k < c.layers; k++) {
    for (const [n, s] of blockSpecs(c.layout, vitBlockNames(c.layout, prefix, k), W, c.mlpWidth, c.layers)) specs.set(n, s);
  }
  const norm = c.layout === 'clip' ? `${prefix}ln_post` : `${prefix}norm`;
  specs.set(`${norm}.weight`, { shape: [W], init: { kind: 'ones' } });
  specs.set(`${norm}.bias`, { shape: [W], init: { kind: 'zeros' } });
  if (embedDim !== undefined) specs.set(`${prefix}proj`, { shape: [W, embedDim], init: { kind: 'normal', std: W ** -0.5 } });
  return specs;
}

export interface VitForwardOptions {
  /** Also return the CLS token after every block (layer-wise RSA). */
  blockCls?: boolean;
  /** Also return the input of block k (the frozen-prefix feature cache). */
  blockInputAt?: number;
}

export interface VitOutput {
  /** [B, embed]: ln_post(CLS) @ proj for CLIP, final-norm CLS for timm. */
  cls: tf.Tensor2D;
  /** Per block k, the CLS token of its output: [B, width]. */
  blockCls?: tf.Tensor2D[];
  /** [B, tokens, width]: the input to block `blockInputAt`. */
  blockInput?: tf.Tensor3D;
}

export class VisionTransformer {
  readonly tokens: number;
  private readonly shape: BlockShape;

  constructor(readonly config: VisionConfig, readonly params: ParamStore, readonly prefix: string, readonly hasProj: boolean) {
    this.tokens = (config.imageSize / config.patchSize) ** 2 + 1;
    this.shape = { heads: config.heads, lnEps: config.lnEps, activation: config.activation };
  }

  /** Patchify, prepend CLS, add positions (and ln_pre for CLIP). images [B, H, W, 3] NHWC -> [B, T, W]. */
  embed(images: tf.Tensor4D): tf.Tensor3D {
    const c = this.config, P = c.patchSize, g = c.imageSize / P, W = c.width, pre = this.prefix;
    const [B, H, Wd] = images.shape;
    if (H !== c.imageSize || Wd !== c.imageSize) {
      throw new Error(`VisionTransformer: images are ${H}x${Wd}, the config expects ${c.imageSize}x${c.imageSize}`);
    }
    // Conv with stride = kernel is a matMul over patches. Patch pixels in (kh, kw, c) order:
    // [B, g, P, g, P*3] -> [B, g, g, P, P*3] -> [B*g*g, P*P*3]; the kernel is permuted to match.
    const patches = tf.reshape(tf.transpose(tf.reshape(images, [B * g, P, g, P * 3]), [0, 2, 1, 3]), [B * g * g, P * P * 3]) as tf.Tensor2D;
    const convName = c.layout === 'clip' ? `${pre}conv1.weight` : `${pre}patch_embed.proj.weight`;
    const kernel = tf.reshape(tf.transpose(this.params.get(convName), [0, 2, 3, 1]), [W, P * P * 3]) as tf.Tensor2D; // [W, kh*kw*c]
    const bias = c.layout === 'timm' ? this.params.get<tf.Tensor1D>(`${pre}patch_embed.proj.bias`) : null;
    const x = tf.reshape(linear(patches, kernel, bias, this.params.needsGrad(convName)), [B, g * g, W]);
    const clsVec = c.layout === 'clip' ? this.params.get(`${pre}class_embedding`) : this.params.get(`${pre}cls_token`);
    const cls = tf.tile(tf.reshape(clsVec, [1, 1, W]), [B, 1, 1]);
    const pos = c.layout === 'clip' ? this.params.get(`${pre}positional_embedding`) : this.params.get(`${pre}pos_embed`);
    const tokens = tf.add(tf.concat([cls, x], 1), tf.reshape(pos, [1, this.tokens, W])) as tf.Tensor3D; // [B, T, W]
    if (c.layout === 'timm') return tokens;
    return layerNorm(tokens, this.params.get(`${pre}ln_pre.weight`), this.params.get(`${pre}ln_pre.bias`), c.lnEps, this.params.needsGrad(`${pre}ln_pre.weight`)) as tf.Tensor3D;
  }

  /** Block k. x [B, T, W] -> [B, T, W]; `inputGrad` false: x is frozen (residualBlock). */
  block(k: number, x: tf.Tensor3D, inputGrad = true): tf.Tensor3D {
    return residualBlock(x, this.weights(k), this.shape, inputGrad);
  }

  /** Block k's output at the CLS token only (residualBlockAt: most of the block's work is skipped). x [B, T, W] -> [B, W]. */
  blockCls(k: number, x: tf.Tensor3D, inputGrad = true): tf.Tensor2D {
    return residualBlockAt(x, this.weights(k), this.shape, new Int32Array(x.shape[0]), inputGrad);
  }

  /** Whether block k has anything to train (then every later block's input needs a gradient). */
  blockTrains(k: number): boolean {
    return blockTrains(this.params, vitBlockNames(this.config.layout, this.prefix, k));
  }

  private weights(k: number): BlockWeights {
    return blockWeights(this.params, vitBlockNames(this.config.layout, this.prefix, k));
  }

  /** Final norm of the CLS token (and @ proj for CLIP). cls [B, W] -> [B, embed]. */
  head(cls: tf.Tensor2D): tf.Tensor2D {
    const pre = this.prefix;
    const norm = this.config.layout === 'clip' ? `${pre}ln_post` : `${pre}norm`;
    const normed = layerNorm(cls, this.params.get(`${norm}.weight`), this.params.get(`${norm}.bias`), this.config.lnEps, this.params.needsGrad(`${norm}.weight`)) as tf.Tensor2D;
    return this.hasProj ? matMulPlain(normed, this.params.get<tf.Tensor2D>(`${pre}proj`)) : normed;
  }

  /** The head reads only the CLS token, so the last block runs at CLS only, unless its whole output is asked for. */
  forward(images: tf.Tensor4D, opts: VitForwardOptions = {}): VitOutput {
    let x = this.embed(images);
    const out: Partial<VitOutput> = {};
    if (opts.blockCls) out.blockCls = [];
    const last = this.config.layers - 1, wholeLast = opts.blockInputAt === this.config.layers;
    let cls: tf.Tensor2D | undefined;
    for (let k = 0; k <= last; k++) {
      if (opts.blockInputAt === k) out.blockInput = x;
      if (k === last && !wholeLast) cls = this.blockCls(k, x);
      else x = this.block(k, x);
      out.blockCls?.push(cls ?? clsToken(x));
    }
    if (wholeLast) out.blockInput = x;
    return { ...out, cls: this.head(cls ?? clsToken(x)) };
  }

  /**
   * Blocks k..end (the last at CLS only) and the head from the input of block k, the frozen prefix: no
   * gradient flows into x, so a block computes input gradients only once a block before it trains.
   * x [B, T, W] -> [B, embed].
   */
  forwardFrom(k: number, x: tf.Tensor3D): tf.Tensor2D {
    const last = this.config.layers - 1;
    let inputGrad = false;
    for (let i = k; i < last; i++) {
      x = this.block(i, x, inputGrad);
      inputGrad ||= this.blockTrains(i);
    }
    return this.head(k <= last ? this.blockCls(last, x, inputGrad) : clsToken(x));
  }

  /**
   * Input of block k (blocks 0..k-1 run): the frozen prefix, not differentiable. Each block runs in
   * its own tidy, so only one block's intermediates are alive at a time (ViT-L/14 at batch 64 holds
   * ~0.3 GB of attention scores per block). images [B, H, W, 3] -> [B, T, W].
   */
  blockInput(images: tf.Tensor4D, k: number): tf.Tensor3D {
    let x = tf.tidy(() => this.embed(images));
    for (let i = 0; i < k; i++) {
      const next = tf.tidy(() => this.block(i, x));
      x.dispose();
      x = next;
    }
    return x;
  }
}

/** The CLS token (position 0) of each image. x [B, T, W] -> [B, W]. */
function clsToken(x: tf.Tensor3D): tf.Tensor2D {
  const [B, , W] = x.shape;
  return tf.reshape(tf.slice(x, [0, 0, 0], [B, 1, W]), [B, W]);
}
