import { customGrad } from './custom-grad.js';
import { tf } from './tf.js';
import { layerNormGradKernel, layerNormKernel, layerNormKernelsApply, registerWebgpuLayerNorm } from './webgpu/layernorm.js';
import { fusedElementwiseApplies, quickGeluFused, quickGeluGradFused, registerWebgpuElementwise, scatterRowsFused } from './webgpu/elementwise.js';
import { type HeadsLayout, lwMatMul, lwMatMulApplies, lwMatMulHeads, lwMatMulHeadsApplies, registerWebgpuMatMul } from './webgpu/matmul.js';
import { fusedAttention, fusedAttentionApplies, registerWebgpuAttention } from './webgpu/attention.js';

/**
 * The building blocks shared by the ViT and text towers. Tokens travel as [B, T, W]; linear layers
 * see them flattened to [B*T, W] (a free reshape).
 *
 * Speed: tfjs' own matMul gradient uses transposed (and, for 3-D inputs, batched) matMuls, which the
 * wasm backend runs off its fast GEMM (wasm-kernels.ts takes plain products only). `linear` computes
 * forward and backward with plain 2-D matMuls only, transposing explicitly (a cheap copy next to the matMul).
 */

type T2 = tf.Tensor2D;

registerWebgpuMatMul();
registerWebgpuElementwise();
registerWebgpuLayerNorm();
registerWebgpuAttention();
/**
 * a @ b, plain: [M, K] x [K, N] or batched [G, M, K] x [G, K, N]. On webgpu, products with at least
 * 32 rows and 32 columns go to our tiled kernel (webgpu/matmul.ts); everything else to tf.matMul.
 */
function mm<R extends tf.Tensor>(a: R, b: R): R {
  const [M, K] = a.shape.slice(-2), N = b.shape[b.rank - 1];
  if (!lwMatMulApplies(M, K, N)) return tf.matMul(a as unknown as T2, b as unknown as T2) as unknown as R;
  return lwMatMul(a as unknown as tf.Tensor2D, b as unknown as tf.Tensor2D) as unknown as R;
}

/**
 * x @ wT + b, x [N, in], wT [in, out], b [out] -> [N, out]. On wasm one GEMM call with the bias
 * fused in (tfjs' _FusedMatMul, run by wasm-gemm.ts); on webgpu our matMul with the bias added in its
 * stores; elsewhere the product, then the add.
 */
function affine(x: T2, wT: T2, b: tf.Tensor1D): T2 {
  if (tf.getBackend() === 'wasm') return tf.fused.matMul({ a: x, b: wT, bias: b }) as T2;
  const [M, K] = x.shape, N = wT.shape[1];
  if (lwMatMulApplies(M, K, N)) return lwMatMul(x, wT, b);
  return tf.add(mm(x, wT), b) as T2;
}

/**
 * x @ wᵀ + b with a trainable w [out, in]: gradients for w, and for x [N, in] and b [out] where asked.
 * An input with no gradient to receive (a frozen prefix, a frozen bias) is not an input of the op, so
 * tfjs neither asks for its gradient nor computes it: dx is a matMul as large as the forward.
 */
function linearWithWeightGrad(x: T2, w: T2, b: tf.Tensor1D, inputGrad: boolean, biasGrad: boolean): T2 {
  const op = customGrad(((...args: tf.Tensor[]) => {
    const save = args.pop() as unknown as tf.GradSaveFunc;
    const xi = (inputGrad ? args.shift() : x) as T2, wi = args.shift() as T2, bi = (biasGrad ? args.shift() : b) as tf.Tensor1D;
    save([xi, wi]);
    return {
      value: affine(xi, tf.transpose(wi), bi), // [N, out]
      gradFunc: (dy: T2, [xs, ws]: tf.Tensor[]) => [
        ...(inputGrad ? [mm(dy, ws as T2)] : []), // dx [N, in]
        mm(tf.transpose(dy), xs as T2), // dw [out, in]
        ...(biasGrad ? [tf.sum(dy, 0)] : []), // db [out]
      ],
    };
  }) as unknown as (...args: tf.Tensor[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] });
  return op(...(inputGrad ? [x] : []), w, ...(biasGrad ? [b] : [])) as T2;
}

/** A frozen linear layer prepared once: w [out, in] (for dx), its transpose wT [in, out] (forward), b [out]. */
export interface FrozenLinear {
  w: T2;
  wT: T2;
  b: tf.Tensor1D;
}

/** y = x @ wᵀ + b with w frozen and its transpose already made: only dx flows back. x [N, in] -> [N, out]. */
export function frozenLinear(x: T2, f: FrozenLinear): T2 {
  // w is not an input (no gradient), so it is handed to the backward pass through save(): tfjs keeps
  // saved tensors alive, while temporaries of the forward scope (e.g. a sliced weight) are disposed.
  const op = customGrad(((xi: T2, save: tf.GradSaveFunc) => {
    save([f.w]);
    return { value: affine(xi, f.wT, f.b), gradFunc: (dy: T2, saved: tf.Tensor[]) => [mm(dy, saved[0] as T2)] };
  }));
  return op(x) as T2;
}

/**
 * frozenLinear's output times `h.scale`, in attention's head layout (webgpu, where lwMatMulHeadsApplies):
 * x [B*T, in] -> [B*H, T, hd], or [B*H, hd, T] transposed. The backward pass takes dy back to rows.
 */
function frozenLinearHeads(x: T2, f: FrozenLinear, h: HeadsLayout): tf.Tensor3D {
  const op = customGrad(((xi: T2, save: tf.GradSaveFunc) => {
    save([f.w]);
    return {
      value: lwMatMulHeads(xi, f.wT, f.b, h),
      gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
        const B = xi.shape[0] / h.T, W = h.H * h.hd;
        const rows = h.transposed
          ? tf.transpose(tf.reshape(dy, [B, h.H, h.hd, h.T]), [0, 3, 1, 2]) // [B, T, H, hd]
          : tf.transpose(tf.reshape(dy, [B, h.H, h.T, h.hd]), [0, 2, 1, 3]);
        const dRows = tf.reshape(rows, [B * h.T, W]) as T2;
        return [mm(h.scale === 1 ? dRows : tf.mul(dRows, h.scale) as T2, saved[0] as T2)];
      },
    };
  }));
  return op(x) as tf.Tensor3D;
}

/**
 * y = x @ wᵀ + b, PyTorch layout. x [N, in], w [out, in], b [out] or null -> [N, out].
 * `weightGrad` false (frozen weights) skips the weight-gradient matMul: only dx flows back.
 * `inputGrad` false (nothing behind x is trainable) skips the dx matMul: no gradient reaches x.
 * `biasGrad` false (a frozen bias beside a trained weight, as DoRA's) skips db's column sums.
 */
export function linear(x: T2, w: T2, b: tf.Tensor1D | null, weightGrad: boolean, inputGrad = true, biasGrad = weightGrad): T2 {
  const bias = b ?? tf.zeros([w.shape[0]]) as tf.Tensor1D;
  if (weightGrad) return linearWithWeightGrad(x, w, bias, inputGrad, biasGrad && b != null);
  return frozenLinear(x, { w, wT: tf.transpose(w), b: bias });
}

// x [..., W] -> x̂ · gamma + beta (x̂ = (x − mean) · rstd), with the mean and rstd [..., 1] the backward pass needs.
function normalise(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number) {
  const mean = tf.mean(x, -1, true); // [..., 1]
  const xc = tf.sub(x, mean);
  const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), eps)); // [..., 1]
  return { value: tf.add(tf.mul(tf.mul(xc, rstd), gamma), beta), mean, rstd };
}

// dx = rstd · (gy − mean(gy) − x̂ · mean(gy · x̂)), means over the last axis, gy = dL/dx̂ = dy · gamma.
function normaliseGrad(dy: tf.Tensor, x: tf.Tensor, gamma: tf.Tensor, mean: tf.Tensor, rstd: tf.Tensor) {
  const xhat = tf.mul(tf.sub(x, mean), rstd); // [..., W]
  const gy = tf.mul(dy, gamma);
  const dx = tf.mul(rstd, tf.sub(tf.sub(gy, tf.mean(gy, -1, true)), tf.mul(xhat, tf.mean(tf.mul(gy, xhat), -1, true))));
  return { dx, xhat };
}

const layerNormOp = (eps: number) => customGrad(((x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, save: tf.GradSaveFunc) => {
  const { value, mean, rstd } = normalise(x, gamma, beta, eps);
  save([x, gamma, mean, rstd]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, g, mu, rs] = saved;
      const { dx, xhat } = normaliseGrad(dy, xs, g, mu, rs);
      const W = xs.shape[xs.rank - 1];
      const flat = (t: tf.Tensor) => tf.reshape(t, [xs.size / W, W]);
      return [dx, tf.sum(flat(tf.mul(dy, xhat)), 0), tf.sum(flat(dy), 0)];
    },
  };
}));
const layerNormOps = new Map<number, ReturnType<typeof layerNormOp>>();

/**
 * Frozen gamma and beta (not inputs of the op): only dx flows back, without their row reductions.
 * On webgpu each direction is one kernel (webgpu/layernorm.ts); elsewhere the composed ops.
 */
const frozenLayerNorm = (x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number) => customGrad(((xi: tf.Tensor, save: tf.GradSaveFunc) => {
  if (layerNormKernelsApply()) {
    save([xi, gamma]);
    return { value: layerNormKernel(xi, gamma, beta, eps), gradFunc: (dy: tf.Tensor, [xs, g]: tf.Tensor[]) => [layerNormGradKernel(dy, xs, g as tf.Tensor1D, eps)] };
  }
  const { value, mean, rstd } = normalise(xi, gamma, beta, eps);
  save([xi, gamma, mean, rstd]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, [xs, g, mu, rs]: tf.Tensor[]) => [normaliseGrad(dy, xs, g, mu, rs).dx],
  };
}))(x);

/**
 * LayerNorm over the last axis, one custom-gradient op. x [..., W], gamma/beta [W].
 * tfjs' own gradient of `mean` multiplies by a ones tensor of the input's shape that it builds on
 * the host and uploads ([64, 257, 1024] floats per call at ViT-L/14): profiled on the H200, that was
 * most of a training step. The closed form here needs only reductions of the saved x.
 * `paramGrads` false (frozen gamma and beta) skips their gradients.
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number, paramGrads = true): tf.Tensor {
  if (!paramGrads) return frozenLayerNorm(x, gamma, beta, eps);
  let op = layerNormOps.get(eps);
  if (!op) layerNormOps.set(eps, op = layerNormOp(eps));
  return op(x, gamma, beta);
}

/**
 * Euclidean norm of each column, as one custom-gradient op. x [R, C] -> [C].
 * (tfjs' gradient of `sum` multiplies by a host-built ones tensor of x's shape, like `mean`'s.)
 */
export const columnNorms = customGrad(((x: T2, save: tf.GradSaveFunc) => {
  const norms = tf.sqrt(tf.sum(tf.square(x), 0)) as tf.Tensor1D; // [C]
  save([x, norms]);
  // d‖x_c‖/dx_rc = x_rc / ‖x_c‖
  return { value: norms, gradFunc: (dy: tf.Tensor1D, [xs, n]: tf.Tensor[]) => [tf.mul(xs, tf.div(dy, n))] };
})) as (x: T2) => tf.Tensor1D;

/** Each row divided by its Euclidean norm, as one custom-gradient op. x [N, E] -> [N, E]. */
export const unitRows = customGrad(((x: T2, save: tf.GradSaveFunc) => {
  const norms = tf.sqrt(tf.sum(tf.square(x), 1, true)); // [N, 1]
  const u = tf.div(x, norms);
  save([u, norms]);
  return {
    value: u,
    // d(x/‖x‖) = (dy − u (u·dy)) / ‖x‖, row by row
    gradFunc: (dy: T2, [us, n]: tf.Tensor[]) => [tf.div(tf.sub(dy, tf.mul(us, tf.sum(tf.mul(us, dy), 1, true))), n)],
  };
})) as (x: T2) => T2;

/**
 * CLIP's QuickGELU x·σ(1.702x) or timm's exact GELU ½x(1+erf(x/√2)), each one custom-gradient op that
 * saves only x: the composed version keeps several [tokens, mlpWidth] intermediates alive for the
 * backward pass, the largest tensors of a ViT block.
 */
const quickGelu = customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  // webgpu: one fused pass each way (webgpu/elementwise.ts), same formulas.
  if (fusedElementwiseApplies()) return { value: quickGeluFused(x), gradFunc: (dy: tf.Tensor, [xs]: tf.Tensor[]) => [quickGeluGradFused(dy, xs)] };
  return {
    value: tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))),
    gradFunc: (dy: tf.Tensor, [xs]: tf.Tensor[]) => {
      const sg = tf.sigmoid(tf.mul(xs, 1.702));
      // d/dx x·σ(ax) = σ + a·x·σ·(1-σ)
      return [tf.mul(dy, tf.add(sg, tf.mul(tf.mul(xs, 1.702), tf.mul(sg, tf.sub(1, sg)))))];
    },
  };
}));

const gelu = customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))),
    gradFunc: (dy: tf.Tensor, [xs]: tf.Tensor[]) => {
      // d/dx x·Φ(x) = Φ(x) + x·φ(x)
      const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(xs, Math.SQRT1_2))));
      const pdf = tf.mul(tf.exp(tf.mul(tf.square(xs), -0.5)), 1 / Math.sqrt(2 * Math.PI));
      return [tf.mul(dy, tf.add(cdf, tf.mul(xs, pdf)))];
    },
  };
}));

export function activation(x: tf.Tensor, kind: 'quick_gelu' | 'gelu'): tf.Tensor {
  return kind === 'quick_gelu' ? quickGelu(x) : gelu(x);
}

/**
 * Rows `ids` of table [V, W] -> [N, W], a gather whose gradient adds dy into the rows it read
 * (scatterND sums repeated ids). tfjs' own gather gradient needs UnsortedSegmentSum, which wasm lacks;
 * a one-hot matMul would cost N*V*W multiply-adds, and tfjs-backend-wasm 4.22's float32 OneHot writes
 * the integer 1's bit pattern (~1.4e-45), so its gradients vanished.
 */
function gatherRows(table: T2, ids: tf.Tensor1D, increasing = false): T2 {
  // ids is not an input of the op: save() keeps it alive for the backward pass.
  const op = customGrad(((t: T2, save: tf.GradSaveFunc) => {
    save([ids]);
    return {
      value: tf.gather(t, ids) as T2,
      // [V, W]; strictly increasing ids (a row selection) on webgpu: one pass (LwScatterRows)
      gradFunc: (dy: T2, [i]: tf.Tensor[]) => [increasing && fusedElementwiseApplies()
        ? scatterRowsFused(dy, i as tf.Tensor1D, t.shape[0])
        : tf.scatterND(tf.reshape(i, [-1, 1]), dy, t.shape)],
    };
  }));
  return op(table) as T2;
}

/** One row of an embedding table per id. table [V, W], ids [N] -> [N, W]. */
export function embedRows(table: T2, ids: tf.Tensor1D, trainable: boolean): T2 {
  return trainable ? gatherRows(table, ids) : tf.gather(table, ids) as T2;
}

/** Weights of one pre-norm residual attention block, in PyTorch layout. */
export interface BlockWeights {
  ln1: [tf.Tensor1D, tf.Tensor1D];
  qkv: [T2, tf.Tensor1D]; // [3W, W] rows q, k, v (CLIP in_proj / timm attn.qkv), [3W]
  out: [T2, tf.Tensor1D]; // [W, W], [W]
  ln2: [tf.Tensor1D, tf.Tensor1D];
  fc1: [T2, tf.Tensor1D]; // [M, W], [M]
  fc2: [T2, tf.Tensor1D]; // [W, M], [W]
  /** Which weights need gradients (trainable or computed from trainables): the linears, and the LayerNorms gamma/beta. */
  grad: {
    qkv: boolean; out: boolean; fc1: boolean; fc2: boolean; ln1: boolean; ln2: boolean;
    /** Whether out's bias trains (default: as its weight; DoRA adapts the weight only). */
    outBias?: boolean;
  };
  /**
   * Frozen linears prepared once (q, k, v: row blocks of qkv), for blocks that run every training
   * step: without them each forward slices and transposes these weights again.
   */
  frozen?: Partial<Record<'q' | 'k' | 'v' | 'fc1' | 'fc2', FrozenLinear>>;
}

export interface BlockShape {
  heads: number;
  lnEps: number;
  activation: 'quick_gelu' | 'gelu';
  /** Additive causal mask [C, C] (0 or -1e9) for text, C >= T (its top-left [T, T] is used); none for images. */
  mask?: tf.Tensor2D;
}

/**
 * a @ b whose gradient also uses only plain (untransposed) matMuls: da = dy @ bᵀ, db = aᵀ @ dy with
 * explicit transposes. 2-D [M, K] x [K, N] or batched 3-D [G, M, K] x [G, K, N].
 */
export const matMulPlain = customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  const perm = a.rank === 3 ? [0, 2, 1] : [1, 0];
  return {
    value: mm(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [as, bs] = saved;
      return [mm(dy, tf.transpose(bs, perm)), mm(tf.transpose(as, perm), dy)];
    },
  };
})) as <R extends tf.Tensor>(a: R, b: R) => R;

/** Row `rows[p]` of each x[p]: x [P, L, W] -> [P, W] (gatherRows on x as [P*L, W]). */
export function selectRows(x: tf.Tensor, rows: ArrayLike<number>): T2 {
  const [P, L, W] = x.shape;
  const flat = Int32Array.from({ length: P }, (_, p) => p * L + rows[p]); // row of x.reshape([P*L, W]); increasing, as rows[p] < L
  return gatherRows(tf.reshape(x, [P * L, W]) as T2, tf.tensor1d(flat, 'int32'), true);
}

/**
 * Multi-head self-attention of x [B, T, W]: every position's output [B*T, W], or with `at` [B] only
 * position at[b] of each sequence b: [B, W] (queries from those rows, keys and values from all).
 * `inputGrad` false: no gradient need reach x (a frozen prefix), so none flows past the output projection
 * unless q/k/v are trainable.
 * q, k, v come from row blocks of the fused [3W, W] weight, so no activation is sliced; heads are
 * formed with 4-D transposes (wasm runs 5-D transposes ~70x slower) and all matMuls are plain.
 */
export function attention(x: tf.Tensor3D, w: BlockWeights, s: BlockShape, at?: ArrayLike<number>, inputGrad = true): T2 {
  const [B, T, W] = x.shape;
  const H = s.heads, hd = W / H, Tq = at ? 1 : T;
  const x2 = tf.reshape(x, [B * T, W]) as T2;
  const proj = (i: number, input: T2) => { // [rows, W]
    const f = w.frozen?.[(['q', 'k', 'v'] as const)[i]];
    return f ? frozenLinear(input, f) : linear(input, tf.slice(w.qkv[0], [i * W, 0], [W, W]), tf.slice(w.qkv[1], [i * W], [W]), w.grad.qkv);
  };
  if (fusedAttentionApplies(hd)) {
    // webgpu: fused kernels on the projections' row layout (webgpu/attention.ts); the mask is the causal one.
    const q2 = proj(0, at ? selectRows(x, at) : x2), k2 = proj(1, x2), v2 = proj(2, x2);
    const ctx2 = fusedAttention(q2, k2, v2, { B, Tq, T, heads: H, scale: 1 / Math.sqrt(hd), causal: s.mask != null, at });
    return linear(ctx2, w.out[0], w.out[1], w.grad.out, inputGrad || w.grad.qkv, w.grad.outBias ?? w.grad.out); // [B*Tq, W]
  }
  const heads = (t: T2, rows: number, perm: number[], shape: [number, number, number]) => tf.reshape(tf.transpose(tf.reshape(t, [B, rows, H, hd]), perm), shape) as tf.Tensor3D;
  // Projection i of `input` ([B*rows, W]) in head layout: on webgpu a frozen one is stored so by the product itself.
  const projHeads = (i: number, input: T2, rows: number, transposed: boolean, scale: number): tf.Tensor3D => {
    const f = w.frozen?.[(['q', 'k', 'v'] as const)[i]], layout = { T: rows, H, hd, transposed, scale };
    if (f && lwMatMulHeadsApplies(input.shape[0], W, W, layout)) return frozenLinearHeads(input, f, layout);
    const p = scale === 1 ? proj(i, input) : tf.mul(proj(i, input), scale) as T2;
    return transposed ? heads(p, rows, [0, 2, 3, 1], [B * H, hd, rows]) : heads(p, rows, [0, 2, 1, 3], [B * H, rows, hd]);
  };
  const q = projHeads(0, at ? selectRows(x, at) : x2, Tq, false, 1 / Math.sqrt(hd)); // [B*H, Tq, hd]
  const kT = projHeads(1, x2, T, true, 1); // [B*H, hd, T]
  const v = projHeads(2, x2, T, false, 1); // [B*H, T, hd]
  let scores = matMulPlain(q, kT) as tf.Tensor3D; // [B*H, Tq, T]
  if (s.mask) scores = tf.add(scores, maskRows(s.mask, T, B, H, at)) as tf.Tensor3D;
  const ctx = matMulPlain(tf.softmax(scores) as tf.Tensor3D, v); // [B*H, Tq, hd]
  const merged = tf.reshape(tf.transpose(tf.reshape(ctx, [B, H, Tq, hd]), [0, 2, 1, 3]), [B * Tq, W]) as T2;
  return linear(merged, w.out[0], w.out[1], w.grad.out, inputGrad || w.grad.qkv, w.grad.outBias ?? w.grad.out); // [B*Tq, W]
}

// The additive mask [C, C] as it meets scores [B*H, Tq, T]: its top-left [T, T], or with `at` the rows
// at[b] of each sequence b, broadcast over its H heads ([B, H, 1, T] -> [B*H, 1, T]).
function maskRows(mask: tf.Tensor2D, T: number, B: number, H: number, at?: ArrayLike<number>): tf.Tensor {
  if (!at) return T === mask.shape[0] ? mask : tf.slice(mask, [0, 0], [T, T]);
  const rows = tf.slice(tf.gather(mask, tf.tensor1d(Int32Array.from(at), 'int32')), [0, 0], [B, T]); // [B, T]
  return tf.reshape(tf.tile(tf.reshape(rows, [B, 1, T]), [1, H, 1]), [B * H, 1, T]);
}

// h + fc2(act(fc1(ln2 h))), the block's second half, row by row. h [N, W] -> [N, W].
function mlpResidual(h: T2, w: BlockWeights, s: BlockShape): T2 {
  const n = layerNorm(h, w.ln2[0], w.ln2[1], s.lnEps, w.grad.ln2) as T2;
  const fc = (t: T2, name: 'fc1' | 'fc2') => { const f = w.frozen?.[name]; return f ? frozenLinear(t, f) : linear(t, w[name][0], w[name][1], w.grad[name]); };
  return tf.add(h, fc(activation(fc(n, 'fc1'), s.activation) as T2, 'fc2'));
}

/**
 * Pre-norm residual block: x + attn(ln1 x), then + mlp(ln2 x). x [B, T, W] -> [B, T, W].
 * `inputGrad` false: x is a frozen prefix, no gradient need reach it (attention skips what only x would use).
 */
export function residualBlock(x: tf.Tensor3D, w: BlockWeights, s: BlockShape, inputGrad = true): tf.Tensor3D {
  const [B, T, W] = x.shape;
  const n1 = layerNorm(x, w.ln1[0], w.ln1[1], s.lnEps, w.grad.ln1) as tf.Tensor3D;
  const h = tf.add(tf.reshape(x, [B * T, W]), attention(n1, w, s, undefined, inputGrad || w.grad.ln1)) as T2;
  return tf.reshape(mlpResidual(h, w, s), [B, T, W]);
}

/**
 * The block's output at position at[b] of each sequence only: x [B, T, W] -> [B, W], equal to
 * selectRows(residualBlock(x), at). For a model's last block, whose head reads one token (CLS, EOT):
 * queries, the output projection and the MLP run on B rows instead of B*T (keys and values still
 * see every position), which is most of the block's work.
 */
export function residualBlockAt(x: tf.Tensor3D, w: BlockWeights, s: BlockShape, at: ArrayLike<number>, inputGrad = true): T2 {
  const n1 = layerNorm(x, w.ln1[0], w.ln1[1], s.lnEps, w.grad.ln1) as tf.Tensor3D;
  return mlpResidual(tf.add(selectRows(x, at), attention(n1, w, s, at, inputGrad || w.grad.ln1)) as T2, w, s);
}

/** Causal additive mask [T, T]: 0 on and below the diagonal, -1e9 above (exp underflows to exactly 0). */
export function causalMask(T: number): tf.Tensor2D {
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
  return tf.tensor2d(m, [T, T]);
}
