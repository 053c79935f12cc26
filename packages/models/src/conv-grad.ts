import { customGrad } from './custom-grad.js';
import { tf } from './tf.js';

/**
 * A 'valid' conv2d whose filter gradient is an im2col matMul, for backends without the
 * Conv2DBackpropFilter kernel (tfjs-backend-wasm 4.x has Conv2D and Conv2DBackpropInput, not it).
 * Forward is the backend's conv2d; the input gradient its conv2dTranspose (Conv2DBackpropInput).
 * im2col holds k·k copies of the input, so backends with the kernel keep tfjs' own gradient.
 */
export function hasConvFilterGrad(): boolean {
  return tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) !== undefined;
}

/**
 * x [B, Hp, Wp, Ci] (already padded), w [kh, kw, Ci, Co] HWIO -> [B, Ho, Wo, Co], Ho = floor((Hp - kh) / s) + 1.
 * dW[i, j] = Σ_{b, oh, ow} x[b, oh·s + i, ow·s + j, :]ᵀ dy[b, oh, ow, :]: one [N, Ci]ᵀ [N, Co] matMul per
 * kernel tap (N = B·Ho·Wo), stacked to HWIO. The taps are plain slices (wasm's StridedSlice and
 * last-axis Concat are slow loops): at stride s, x is viewed as [B, Hp/s, s, Wp/s, s, Ci] and tap
 * (i, j) is the phase (i mod s, j mod s) from block offset (i div s, j div s).
 */
export function conv2dIm2colGrad(x: tf.Tensor4D, w: tf.Tensor4D, stride: number): tf.Tensor4D {
  const f = customGrad((xp: tf.Tensor4D, k: tf.Tensor4D, save: (ts: tf.Tensor[]) => void) => {
    save([xp, k]);
    return {
      value: tf.conv2d(xp, k, stride, 'valid'),
      gradFunc: (dy: tf.Tensor4D, [xs, ks]: [tf.Tensor4D, tf.Tensor4D]) => {
        const [kh, kw, ci, co] = ks.shape;
        const [B, Ho, Wo] = dy.shape;
        const dx = tf.conv2dTranspose(dy, ks, xs.shape, stride, 'valid');
        const dy2 = tf.reshape(dy, [B * Ho * Wo, co]) as tf.Tensor2D;
        const phases = strideWindows(xs, stride, Ho, Wo);
        const taps: tf.Tensor2D[] = [];
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) taps.push(tf.matMul(tf.reshape(phases(i, j), [B * Ho * Wo, ci]) as tf.Tensor2D, dy2, true, false)); // [Ci, Co]
        }
        const dw = tf.reshape(tf.stack(taps), [kh, kw, ci, co]);
        return [dx, dw];
      },
    };
  });
  return f(x, w) as tf.Tensor4D;
}

/**
 * tap(i, j) = x[:, i : i + s(Ho-1) + 1 : s, j : j + s(Wo-1) + 1 : s, :] as [B, Ho, Wo, Ci], by slices only.
 * x is zero-padded at the bottom/right to a multiple of s (rows no tap reads).
 */
function strideWindows(x: tf.Tensor4D, s: number, Ho: number, Wo: number): (i: number, j: number) => tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  if (s === 1) return (i, j) => tf.slice(x, [0, i, j, 0], [B, Ho, Wo, C]);
  const Hs = Math.ceil(H / s), Ws = Math.ceil(W / s);
  const padded = Hs * s === H && Ws * s === W ? x : tf.pad(x, [[0, 0], [0, Hs * s - H], [0, Ws * s - W], [0, 0]]);
  const blocks = tf.reshape(padded, [B, Hs, s, Ws, s, C]);
  return (i, j) => tf.reshape(tf.slice(blocks, [0, Math.floor(i / s), i % s, Math.floor(j / s), j % s, 0], [B, Ho, 1, Wo, 1, C]), [B, Ho, Wo, C]) as tf.Tensor4D;
}
