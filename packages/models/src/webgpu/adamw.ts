import { tf } from '../tf.js';
import { withoutUniformCache } from './dispatch-cache.js';
import { runRaw, type RawProgram } from './program.js';

/**
 * One AdamW update of one weight tensor in one dispatch (webgpu), so a training step need not read its
 * gradients back to the host: composed from tfjs ops it is ~14 kernels and a few scalar uploads per
 * weight. The arithmetic is @lw/train's host AdamW (torch.optim.AdamW's single-tensor path) op for op:
 *
 *   p' = p·decay + (negStep·m') / (sqrt(v') / bc2Sqrt + eps),  m' = m + w·(g − m),  v' = v·b2 + (omb2·g)·g
 *
 * with the scalars (float32, computed by the caller as the host optimiser does) in `AdamWScalars`.
 * Every other backend composes the same formula from tf ops (same rounding but for fused multiply-adds).
 */
export const LW_ADAMW = 'LwAdamW';

export interface AdamWScalars {
  decay: number;
  /** 1 − beta1 */
  w: number;
  b2: number;
  /** 1 − beta2 */
  omb2: number;
  /** sqrt(1 − beta2^step) */
  bc2Sqrt: number;
  /** −lr / (1 − beta1^step) */
  negStep: number;
  eps: number;
}

const WORKGROUP = 256;
const FIELDS = ['decay', 'w', 'b2', 'omb2', 'bc2Sqrt', 'negStep', 'eps'] as const;

const code = () => `
struct U { n : i32, ${FIELDS.map((f) => `${f} : f32,`).join(' ')} };
@group(0) @binding(0) var<storage, read_write> P1 : array<f32>;
@group(0) @binding(1) var<storage, read_write> M1 : array<f32>;
@group(0) @binding(2) var<storage, read_write> V1 : array<f32>;
@group(0) @binding(3) var<storage, read> P : array<f32>;
@group(0) @binding(4) var<storage, read> G : array<f32>;
@group(0) @binding(5) var<storage, read> M : array<f32>;
@group(0) @binding(6) var<storage, read> V : array<f32>;
@group(0) @binding(7) var<uniform> u : U;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid : vec3<u32>, @builtin(num_workgroups) groups : vec3<u32>) {
  let i = i32(gid.x + gid.y * groups.x * ${WORKGROUP}u);
  if (i >= u.n) { return; }
  let g = G[i];
  let m = M[i] + u.w * (g - M[i]);
  let v = V[i] * u.b2 + (u.omb2 * g) * g;
  let denom = sqrt(v) / u.bc2Sqrt + u.eps;
  M1[i] = m;
  V1[i] = v;
  P1[i] = P[i] * u.decay + (u.negStep * m) / denom;
}`;

let registered = false;
/** Registers `LwAdamW` for webgpu (idempotent; harmless when webgpu never starts). */
export function registerWebgpuAdamW(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({ kernelName: LW_ADAMW, backendName: 'webgpu', kernelFunc: ({ inputs, backend, attrs }) => {
    const { p, g, m, v } = inputs as Record<'p' | 'g' | 'm' | 'v', tf.TensorInfo>;
    const s = attrs as unknown as AdamWScalars;
    const n = p.shape.reduce((a, b) => a * b, 1);
    const groups = Math.ceil(n / WORKGROUP);
    // Over 65,535 groups a dispatch needs a second dimension (the kernel folds it back into i).
    const x = Math.min(groups, 65535), y = Math.ceil(groups / x);
    const out = { shape: p.shape, dtype: 'float32' as const };
    const prog: RawProgram = { key: 'lwAdamW', code, outputs: [out, out, out], dispatch: [x, y, 1] };
    // The scalars change every step: not worth a cached uniform buffer each (dispatch-cache.ts).
    return withoutUniformCache(() => runRaw(backend, prog, [p, g, m, v], [{ type: 'int32', data: [n] }, ...FIELDS.map((f) => ({ type: 'float32' as const, data: [s[f]] }))]));
  } });
}
registerWebgpuAdamW();

/** The update on any backend: [p', m', v'] from the weight, its gradient and both moments (same shapes). */
export function adamwUpdate(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: AdamWScalars): [tf.Tensor, tf.Tensor, tf.Tensor] {
  if (tf.getBackend() === 'webgpu') {
    return tf.engine().runKernel(LW_ADAMW, { p, g, m, v }, s as unknown as tf.NamedAttrMap) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
  }
  return tf.tidy(() => {
    const m1 = tf.add(m, tf.mul(tf.sub(g, m), s.w));
    const v1 = tf.add(tf.mul(v, s.b2), tf.mul(tf.mul(g, s.omb2), g));
    const denom = tf.add(tf.div(tf.sqrt(v1), s.bc2Sqrt), s.eps);
    const p1 = tf.add(tf.mul(p, s.decay), tf.div(tf.mul(m1, s.negStep), denom));
    return [p1, m1, v1];
  });
}
