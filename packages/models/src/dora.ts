import { Rng } from '@lw/core';
import { columnNorms, matMulPlain } from './layers.js';
import { tf } from './tf.js';

/**
 * DoRA on one Linear (method §1.3). For W [out, in]:
 *   S[o] = ‖W[o,:]‖₂,  m = S (trainable, [out]),  D = Wᵀ / S (frozen, [in, out], unit columns),
 *   ΔD = (B @ A) · α/r with B [in, r], A [r, out] (trainable),
 *   W' = ( m[o] · (D + ΔD)[:,o] / (‖(D + ΔD)[:,o]‖₂ + 1e-8) )ᵀ   -> [out, in].
 * A and B are both kaiming_uniform(a=√5): U(±1/√fan_in) with fan_in = size(1), so A ~ U(±1/√out),
 * B ~ U(±1/√r); drawn (A first, then B, row-major) from `new Rng(seed, 'dora', name)`. Bias stays the
 * original, frozen. No dropout: in the study it is dead code.
 */
export interface DoraLayer {
  /** Layer name, e.g. `clip_model.visual.transformer.resblocks.22.attn.out_proj`. */
  readonly name: string;
  readonly m: tf.Variable; // [out]
  readonly A: tf.Variable; // delta_D_A [r, out]
  readonly B: tf.Variable; // delta_D_B [in, r]
  readonly D: tf.Tensor2D; // [in, out], frozen
  readonly scaling: number; // α / r
  /** The adapted weight W' [out, in] (differentiable w.r.t. m, A, B). */
  weight(): tf.Tensor2D;
  dispose(): void;
}

/** W' [out, in] from m [out], D [in, out], A [r, out], B [in, r]. */
export function doraWeight(m: tf.Tensor1D, D: tf.Tensor2D, A: tf.Tensor2D, B: tf.Tensor2D, scaling: number): tf.Tensor2D {
  const adapted = tf.add(D, tf.mul(matMulPlain(B, A), scaling)); // [in, out]
  const colNorm = tf.add(columnNorms(adapted as tf.Tensor2D), 1e-8); // [out]
  return tf.transpose(tf.mul(adapted, tf.div(m, colNorm))) as tf.Tensor2D; // [out, in]
}

export function createDora(name: string, W: tf.Tensor2D, opts: { rank: number; alpha: number; seed: number }): DoraLayer {
  const [out, inp] = W.shape;
  const r = opts.rank;
  const w = W.dataSync();
  // Row norms in float64, then D = Wᵀ / S.
  const S = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = 0;
    for (let i = 0; i < inp; i++) s += w[o * inp + i] ** 2;
    S[o] = Math.sqrt(s);
  }
  const D = new Float32Array(inp * out);
  for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) D[i * out + o] = w[o * inp + i] / S[o];

  const rng = new Rng(opts.seed, 'dora', name);
  const Avals = rng.uniforms(r * out, -1 / Math.sqrt(out), 1 / Math.sqrt(out));
  const Bvals = rng.uniforms(inp * r, -1 / Math.sqrt(r), 1 / Math.sqrt(r));

  // tf.variable shares its initial tensor's data and leaves that tensor alive: disposed here, or every
  // DoRA model leaked three tensors (a worker process builds one per task; behavior/memory.test.ts in @lw/train).
  const variable = <R extends tf.Rank>(t: tf.Tensor<R>): tf.Variable<R> => { const v = tf.variable(t, true); t.dispose(); return v; };
  const m = variable(tf.tensor1d(Float32Array.from(S)));
  const A = variable(tf.tensor2d(Avals, [r, out]));
  const B = variable(tf.tensor2d(Bvals, [inp, r]));
  const Dt = tf.keep(tf.tensor2d(D, [inp, out]));
  const scaling = opts.alpha / r;
  return {
    name, m, A, B, D: Dt, scaling,
    weight: () => doraWeight(m, Dt, A, B, scaling),
    dispose() {
      m.dispose(); A.dispose(); B.dispose(); Dt.dispose();
    },
  };
}
