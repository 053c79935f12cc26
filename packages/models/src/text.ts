import type { TextConfig } from './config.js';
import { type BlockShape, causalMask, embedRows, layerNorm, matMulPlain, residualBlock, residualBlockAt, selectRows } from './layers.js';
import type { ParamSpec, ParamStore } from './params.js';
import { tf } from './tf.js';
import { blockSpecs, blockTrains, blockWeights, vitBlockNames } from './vit.js';

/**
 * CLIP's text tower (OpenAI names: token_embedding, positional_embedding, transformer.resblocks.N,
 * ln_final, text_projection). Prompts are token ids [P, ctx]; the feature of a prompt is taken at its
 * EOT token, found as the largest id in the row (CLIP's argmax convention: EOT has the largest id).
 *
 * Speed (exact): under the causal mask, position j sees only positions <= j, so no position after the
 * last EOT of the batch can change any EOT feature. The tower therefore runs on the first
 * L = (last EOT position + 1) positions only: activations are [P, L, Wt], L <= ctx (for the 66 SPoSE
 * prompts L is about a quarter of 77).
 */

export function textSpecs(c: TextConfig, embedDim: number): Map<string, ParamSpec> {
  const specs = new Map<string, ParamSpec>([
    ['token_embedding.weight', { shape: [c.vocabSize, c.width], init: { kind: 'normal', std: 0.02 } }],
    ['positional_embedding', { shape: [c.contextLength, c.width], init: { kind: 'normal', std: 0.01 } }],
  ]);
  for (let k = 0; k < c.layers; k++) {
    for (const [n, s] of blockSpecs('clip', vitBlockNames('clip', '', k), c.width, c.mlpWidth, c.layers)) specs.set(n, s);
  }
  specs.set('ln_final.weight', { shape: [c.width], init: { kind: 'ones' } });
  specs.set('ln_final.bias', { shape: [c.width], init: { kind: 'zeros' } });
  specs.set('text_projection', { shape: [c.width, embedDim], init: { kind: 'normal', std: c.width ** -0.5 } });
  return specs;
}

/** Number of leading positions that matter: last EOT position + 1. tokens [P, ctx]. */
export function usedLength(tokens: Int32Array, ctx: number): number {
  return Math.max(...eotPositions(tokens, ctx)) + 1;
}

/** Position of the EOT (largest id) in each row. tokens [P, ctx] -> [P]. */
export function eotPositions(tokens: Int32Array, ctx: number): Int32Array {
  const P = tokens.length / ctx, out = new Int32Array(P);
  for (let p = 0; p < P; p++) {
    let best = 0;
    for (let j = 1; j < ctx; j++) if (tokens[p * ctx + j] > tokens[p * ctx + best]) best = j;
    out[p] = best;
  }
  return out;
}

export class TextTransformer {
  private readonly shape: BlockShape;

  constructor(readonly config: TextConfig, readonly params: ParamStore) {
    this.shape = { heads: config.heads, lnEps: config.lnEps, activation: config.activation, mask: tf.keep(causalMask(config.contextLength)) };
  }

  private check(tokens: Int32Array): number {
    const ctx = this.config.contextLength;
    if (tokens.length % ctx !== 0 || tokens.length === 0) {
      throw new Error(`TextTransformer: ${tokens.length} token ids are not a whole number of rows of context ${ctx}`);
    }
    return tokens.length / ctx;
  }

  /** Token + positional embedding of the used positions. tokens [P, ctx] -> [P, L, Wt]. */
  embed(tokens: Int32Array): tf.Tensor3D {
    const P = this.check(tokens), { contextLength: ctx, width: W } = this.config;
    const L = usedLength(tokens, ctx);
    const used = new Int32Array(P * L);
    for (let p = 0; p < P; p++) used.set(tokens.subarray(p * ctx, p * ctx + L), p * L);
    const ids = tf.tensor1d(used, 'int32');
    const rows = embedRows(this.params.get('token_embedding.weight'), ids, this.params.needsGrad('token_embedding.weight'));
    const pos = tf.slice(this.params.get('positional_embedding'), [0, 0], [L, W]);
    return tf.add(tf.reshape(rows, [P, L, W]), pos) as tf.Tensor3D;
  }

  /** Text block k; `inputGrad` false: x is frozen (residualBlock). */
  block(k: number, x: tf.Tensor3D, inputGrad = true): tf.Tensor3D {
    return residualBlock(x, this.weights(k), this.shape, inputGrad);
  }

  private weights(k: number) {
    return blockWeights(this.params, vitBlockNames('clip', '', k));
  }

  /** ln_final @ text_projection of the EOT rows. eot [P, Wt] -> [P, embed]. */
  head(eot: tf.Tensor2D): tf.Tensor2D {
    const normed = layerNorm(eot, this.params.get('ln_final.weight'), this.params.get('ln_final.bias'), this.config.lnEps, this.params.needsGrad('ln_final.weight'));
    return matMulPlain(normed as tf.Tensor2D, this.params.get<tf.Tensor2D>('text_projection'));
  }

  /** Text features. tokens [P, ctx] -> [P, embed]. */
  encodeText(tokens: Int32Array): tf.Tensor2D {
    return this.forwardTextFrom(0, this.embed(tokens), tokens);
  }

  /** Input of text block k. tokens [P, ctx] -> [P, L, Wt] (L: see the class comment). */
  textBlockInput(tokens: Int32Array, k: number): tf.Tensor3D {
    // Frozen prefix, not differentiable: one tidy per block bounds the memory to one block's intermediates.
    let x = tf.tidy(() => this.embed(tokens));
    for (let i = 0; i < k; i++) {
      const next = tf.tidy(() => this.block(i, x));
      x.dispose();
      x = next;
    }
    return x;
  }

  /**
   * Blocks k..end and the head from the input of block k. x [P, L, Wt] -> [P, embed]. Only the EOT
   * rows reach the head, so the last block runs at those rows (residualBlockAt; LayerNorm is per row).
   * `inputGrad` false: x is the frozen prefix (ViT's forwardFrom); true where x is the embedding, which may train.
   */
  forwardTextFrom(k: number, x: tf.Tensor3D, tokens: Int32Array, inputGrad = true): tf.Tensor2D {
    const last = this.config.layers - 1, eot = eotPositions(tokens, this.config.contextLength);
    for (let i = k; i < last; i++) {
      x = this.block(i, x, inputGrad);
      inputGrad ||= blockTrains(this.params, vitBlockNames('clip', '', i));
    }
    const rows = k <= last ? residualBlockAt(x, this.weights(last), this.shape, eot, inputGrad) : selectRows(x, eot);
    return this.head(rows);
  }

  dispose(): void {
    this.shape.mask?.dispose();
  }
}

