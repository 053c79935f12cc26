import { tf } from '../tf.js';
import { runProgram, type WebGPUProgram } from './program.js';

/**
 * LayerNorm with frozen gamma and beta as two kernels for tfjs' webgpu backend:
 *   LwLayerNorm      x [R, W], gamma [W], beta [W] -> y = x̂ · gamma + beta, x̂ = (x − mean) · rstd
 *   LwLayerNormGrad  dy, x [R, W], gamma [W]      -> dx = rstd · (gy − mean(gy) − x̂ · mean(gy · x̂)), gy = dy · gamma
 * with mean and rstd = 1 / sqrt(var + eps) over each row (recomputed by the backward kernel, so the
 * forward has one output). Why: composed from tfjs ops, the forward is 9 kernels and the backward 10,
 * each a full pass over the activations ([16448, 1024] at ViT-L/14, batch 64) and a dispatch. Other
 * backends keep the composed ops (layers.ts), which these kernels are tested against (parity.ts).
 * (On wasm the same two kernels as JavaScript loops measured no faster than the composed SIMD ops.)
 */
export const LW_LAYER_NORM = 'LwLayerNorm';
export const LW_LAYER_NORM_GRAD = 'LwLayerNormGrad';

const THREADS = 256; // webgpu: one workgroup of 256 threads per row
const MAX_GROUPS_X = 32768; // rows per dispatch row; more rows use the y dimension

/**
 * WGSL for one row per workgroup. `body` runs after mean and rstd are known; `rowSum(v, t)` sums
 * the threads' v into every thread (a barrier-separated tree in shared memory).
 */
function rowProgram(key: string, inputs: string[], R: number, W: number, eps: number, body: string): WebGPUProgram {
  const gx = Math.min(R, MAX_GROUPS_X);
  return {
    outputShape: [R, W],
    shaderKey: `${key}_${eps}`,
    // Not flat (x over every axis): tfjs then calls main() without a flat index.
    dispatchLayout: { x: [1], y: [0] },
    dispatch: [gx, Math.ceil(R / gx), 1],
    variableNames: inputs,
    workgroupSize: [THREADS, 1, 1],
    uniforms: 'rows : i32, width : i32, groupsX : i32,',
    getUserCode: () => `
  var<workgroup> red: array<f32, ${THREADS}>;
  fn rowSum(v: f32, t: i32) -> f32 {
    workgroupBarrier();
    red[t] = v;
    for (var s = ${THREADS / 2}; s > 0; s = s / 2) {
      workgroupBarrier();
      if (t < s) { red[t] = red[t] + red[t + s]; }
    }
    workgroupBarrier();
    return red[0];
  }
  fn main() {
    let t = i32(localId.x);
    // Rows past the end (the last dispatch row) compute row R - 1 again and write nothing:
    // every thread must reach every barrier.
    let rowId = i32(workgroupId.y) * uniforms.groupsX + i32(workgroupId.x);
    let valid = rowId < uniforms.rows;
    let base = min(rowId, uniforms.rows - 1) * uniforms.width;
    let W = uniforms.width;
    var s = 0.0;
    for (var i = t; i < W; i = i + ${THREADS}) { s = s + X[base + i]; }
    let mean = rowSum(s, t) / f32(W);
    var v = 0.0;
    for (var i = t; i < W; i = i + ${THREADS}) { let d = X[base + i] - mean; v = v + d * d; }
    let rstd = inverseSqrt(rowSum(v, t) / f32(W) + ${eps.toExponential()});
    ${body}
  }`,
  };
}

function layerNormWebgpu(x: tf.TensorInfo, gamma: tf.TensorInfo, beta: tf.TensorInfo, eps: number, backend: unknown): tf.TensorInfo {
  const W = x.shape[x.shape.length - 1], R = tf.util.sizeFromShape(x.shape) / W;
  const p = rowProgram('lwLayerNorm', ['X', 'G', 'B'], R, W, eps, `
    if (valid) {
      for (var i = t; i < W; i = i + ${THREADS}) { result[base + i] = (X[base + i] - mean) * rstd * G[i] + B[i]; }
    }`);
  return { ...runProgram(backend, p, [x, gamma, beta], [R, W, p.dispatch[0]]), shape: x.shape }; // [R, W] viewed as x's shape
}

function layerNormGradWebgpu(dy: tf.TensorInfo, x: tf.TensorInfo, gamma: tf.TensorInfo, eps: number, backend: unknown): tf.TensorInfo {
  const W = x.shape[x.shape.length - 1], R = tf.util.sizeFromShape(x.shape) / W;
  const p = rowProgram('lwLayerNormGrad', ['X', 'DY', 'G'], R, W, eps, `
    var a = 0.0;
    var b = 0.0;
    for (var i = t; i < W; i = i + ${THREADS}) {
      let gy = DY[base + i] * G[i];
      a = a + gy;
      b = b + gy * (X[base + i] - mean) * rstd;
    }
    let meanGy = rowSum(a, t) / f32(W);
    let meanGyXhat = rowSum(b, t) / f32(W);
    if (valid) {
      for (var i = t; i < W; i = i + ${THREADS}) {
        let xhat = (X[base + i] - mean) * rstd;
        result[base + i] = rstd * (DY[base + i] * G[i] - meanGy - xhat * meanGyXhat);
      }
    }`);
  return { ...runProgram(backend, p, [x, dy, gamma], [R, W, p.dispatch[0]]), shape: x.shape };
}

let registered = false;
/** Registers both kernels for webgpu (idempotent; harmless when webgpu never starts). */
export function registerWebgpuLayerNorm(): void {
  if (registered) return;
  registered = true;
  type In = { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo; dy: tf.TensorInfo };
  const eps = (attrs: unknown) => (attrs as { eps: number }).eps;
  tf.registerKernel({ kernelName: LW_LAYER_NORM, backendName: 'webgpu', kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, gamma, beta } = inputs as In;
    return layerNormWebgpu(x, gamma, beta, eps(attrs), backend);
  } });
  tf.registerKernel({ kernelName: LW_LAYER_NORM_GRAD, backendName: 'webgpu', kernelFunc: ({ inputs, backend, attrs }) => {
    const { dy, x, gamma } = inputs as In;
    return layerNormGradWebgpu(dy, x, gamma, eps(attrs), backend);
  } });
}

/** Whether the kernels serve the current backend (webgpu); on the others use the composed ops. */
export function layerNormKernelsApply(): boolean {
  return registered && tf.getBackend() === 'webgpu';
}

/** LayerNorm over the last axis in one kernel. x [..., W], gamma/beta [W] -> [..., W]. */
export function layerNormKernel(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor {
  return tf.engine().runKernel(LW_LAYER_NORM, { x, gamma, beta }, { eps } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** dL/dx of LayerNorm with frozen gamma in one kernel. dy, x [..., W], gamma [W] -> [..., W]. */
export function layerNormGradKernel(dy: tf.Tensor, x: tf.Tensor, gamma: tf.Tensor1D, eps: number): tf.Tensor {
  return tf.engine().runKernel(LW_LAYER_NORM_GRAD, { dy, x, gamma }, { eps } as unknown as tf.NamedAttrMap) as tf.Tensor;
}
