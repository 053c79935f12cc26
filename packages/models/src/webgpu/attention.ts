import { customGrad } from '../custom-grad.js';
import { tf } from '../tf.js';
import { runRaw, type RawProgram } from './program.js';

/**
 * Multi-head attention as fused kernels for tfjs' webgpu backend (FlashAttention-style: the
 * [heads, Tq, T] scores never reach memory). q [B*Tq, W], k and v [B*T, W] in the projections' own
 * row layout (row b*T + t, head h in columns h*hd..h*hd+hd-1), so no head is split or merged by a
 * transpose; out [B*Tq, W] in the same layout.
 *
 *   LwAttention      q, k, v (, pos)                 -> out, lse [B, H, Tq]   (lse: log-sum-exp of each score row)
 *   LwAttentionDq    q, k, v, out, dOut, lse (, pos) -> dq
 *   LwAttentionDkv   q, k, v, out, dOut, lse (, pos) -> dk or dv (attr `which`)
 * (D = rowsum(dOut ∘ out) is recomputed by each: a second output would take a 9th storage buffer, over WebGPU's default 8.)
 *
 * Scores are scale · q·k; with `causal`, query row i (at position pos[b] when `pos` is given, else i)
 * sees keys j <= its position, as the model's additive -1e9 mask does (exp underflows to exactly 0
 * there). The forward keeps one query row per thread (q and the output accumulator in registers) and
 * streams key/value tiles through shared memory with an online softmax; the backward recomputes the
 * probabilities from lse: dq per query row (one thread each), dk and dv per key row (one thread each,
 * one kernel for each: both at once would hold 256 floats per thread). Composed from tfjs ops the same
 * attention is ~100 ops forward and backward per block (head transposes, batched matMuls and their
 * transposed gradients, softmax and its gradient), each a dispatch or at least engine work on the host.
 * Other backends keep the composed ops (layers.ts attention), which these kernels are tested against (parity.ts).
 */
export const LW_ATTENTION = 'LwAttention';
export const LW_ATTENTION_DQ = 'LwAttentionDq';
export const LW_ATTENTION_DKV = 'LwAttentionDkv';

interface Dims { B: number; Tq: number; T: number; H: number; W: number; scale: number; causal: boolean; hasPos: boolean }

const BC_FWD = 32; // keys per shared-memory tile in the forward and dq kernels (2 tiles of BC*hd floats: 16 KiB at hd 64)
const BC_BWD = 16; // query rows per tile in the dk/dv kernel

/** Rows per workgroup (one thread each): 64, or 32 where 64 would leave > 15% of the rows idle (257 -> 288 instead of 320). */
const rowsPerGroup = (n: number) => (Math.ceil(n / 64) * 64 <= 1.15 * n ? 64 : 32);

const unroll = (n: number, f: (i: number) => string, sep = '\n      ') => Array.from({ length: n }, (_, i) => f(i)).join(sep);

function header(d: Dims, outs: string[], ins: string[]): string {
  const bind = [...outs.map((o) => `var<storage, read_write> ${o}`), ...ins.map((i) => `var<storage, read> ${i}`)];
  return `
struct U { B : i32, Tq : i32, T : i32, H : i32, W4 : i32, scale : f32, };
${bind.map((b, i) => `@group(0) @binding(${i}) ${b};`).join('\n')}
@group(0) @binding(${bind.length}) var<uniform> u : U;
// Keys visible to query row i of batch b: j < limit.
fn keyLimit(b : i32, i : i32) -> i32 {
  ${d.causal ? `return min(u.T, ${d.hasPos ? 'POS[b]' : 'i'} + 1);` : 'return u.T;'}
}`;
}

const uniforms = (d: Dims) => [
  ...[d.B, d.Tq, d.T, d.H, d.W / 4].map((v) => ({ type: 'int32' as const, data: [v] })),
  { type: 'float32' as const, data: [d.scale] },
];

/** `var a` = the vec4 products of registers `${reg}0..` with shared `${sh}[base + c]`, summed over c (a.x + a.y + a.z + a.w is the dot). */
const dotAcc = (q4: number, a: string, reg: string, sh: string, base: string) => `var ${a} = ${reg}0 * ${sh}[${base}];
        ${unroll(q4 - 1, (c) => `${a} = fma(${reg}${c + 1}, ${sh}[${base} + ${c + 1}], ${a});`, '\n        ')}`;

const loadTile = (q4: number, bc: number, rows: number, pairs: [string, string][], rowExpr: string, valid: string) => `
    for (var e = tid; e < ${bc * q4}; e = e + ${rows}) {
      let r = e / ${q4};
      let c = e % ${q4};
      let row = ${rowExpr};
      ${pairs.map(([sh]) => `var ${sh}v = vec4<f32>(0.0);`).join(' ')}
      if (${valid}) {
        ${pairs.map(([sh, src]) => `${sh}v = ${src};`).join(' ')}
      }
      ${pairs.map(([sh]) => `${sh}[e] = ${sh}v;`).join(' ')}
    }`;

function forwardCode(d: Dims, rows: number): string {
  const hd = d.W / d.H, q4 = hd / 4, bc = BC_FWD;
  return `${header(d, ['O: array<vec4<f32>>', 'LSE: array<f32>'], ['Q: array<vec4<f32>>', 'K: array<vec4<f32>>', 'V: array<vec4<f32>>', ...(d.hasPos ? ['POS: array<i32>'] : [])])}
var<workgroup> Ks : array<vec4<f32>, ${bc * q4}>;
var<workgroup> Vs : array<vec4<f32>, ${bc * q4}>;
@compute @workgroup_size(${rows})
fn main(@builtin(local_invocation_id) lid : vec3<u32>, @builtin(workgroup_id) wid : vec3<u32>) {
  let tid = i32(lid.x);
  let h = i32(wid.y);
  let b = i32(wid.z);
  let i = i32(wid.x) * ${rows} + tid;
  let valid = i < u.Tq;
  let ic = min(i, u.Tq - 1);
  let qBase = (b * u.Tq + ic) * u.W4 + h * ${q4};
  let kvBase = b * u.T * u.W4 + h * ${q4};
  let limit = keyLimit(b, ic);
  ${unroll(q4, (c) => `let q${c} = Q[qBase + ${c}] * u.scale;`)}
  ${unroll(q4, (c) => `var o${c} = vec4<f32>(0.0);`)}
  var m = -3.0e38;
  var l = 0.0;
  for (var t0 = 0; t0 < u.T; t0 = t0 + ${bc}) {
    workgroupBarrier();
    ${loadTile(q4, bc, rows, [['Ks', 'K[kvBase + row * u.W4 + c]'], ['Vs', 'V[kvBase + row * u.W4 + c]']], 't0 + r', 'row < u.T')}
    workgroupBarrier();
    let n = limit - t0; // keys j < n of this tile are visible
    ${unroll(bc, (j) => `var s${j} = -3.0e38;
    if (${j} < n) {
        ${dotAcc(q4, 'a', 'q', 'Ks', `${j * q4}`)}
        s${j} = a.x + a.y + a.z + a.w;
    }`, '\n    ')}
    var mt = m;
    ${unroll(bc, (j) => `mt = max(mt, s${j});`, ' ')}
    let corr = exp(m - mt);
    l = l * corr;
    ${unroll(q4, (c) => `o${c} = o${c} * corr;`, ' ')}
    ${unroll(bc, (j) => `{
      let p = select(0.0, exp(s${j} - mt), ${j} < n);
      l = l + p;
      let pv = vec4<f32>(p);
      ${unroll(q4, (c) => `o${c} = fma(pv, Vs[${j * q4 + c}], o${c});`, ' ')}
    }`, '\n    ')}
    m = mt;
  }
  if (valid) {
    let inv = 1.0 / l;
    ${unroll(q4, (c) => `O[qBase + ${c}] = o${c} * inv;`)}
    LSE[(b * u.H + h) * u.Tq + i] = m + log(l);
  }
}`;
}

function dqCode(d: Dims, rows: number): string {
  const hd = d.W / d.H, q4 = hd / 4, bc = BC_FWD;
  return `${header(d, ['DQ: array<vec4<f32>>'], ['Q: array<vec4<f32>>', 'K: array<vec4<f32>>', 'V: array<vec4<f32>>', 'O: array<vec4<f32>>', 'DO: array<vec4<f32>>', 'LSE: array<f32>', ...(d.hasPos ? ['POS: array<i32>'] : [])])}
var<workgroup> Ks : array<vec4<f32>, ${bc * q4}>;
var<workgroup> Vs : array<vec4<f32>, ${bc * q4}>;
@compute @workgroup_size(${rows})
fn main(@builtin(local_invocation_id) lid : vec3<u32>, @builtin(workgroup_id) wid : vec3<u32>) {
  let tid = i32(lid.x);
  let h = i32(wid.y);
  let b = i32(wid.z);
  let i = i32(wid.x) * ${rows} + tid;
  let valid = i < u.Tq;
  let ic = min(i, u.Tq - 1);
  let qBase = (b * u.Tq + ic) * u.W4 + h * ${q4};
  let kvBase = b * u.T * u.W4 + h * ${q4};
  let limit = keyLimit(b, ic);
  let srow = (b * u.H + h) * u.Tq + ic;
  let lse = LSE[srow];
  ${unroll(q4, (c) => `let q${c} = Q[qBase + ${c}] * u.scale;`)}
  ${unroll(q4, (c) => `let g${c} = DO[qBase + ${c}];`)}
  var dsum = vec4<f32>(0.0);
  ${unroll(q4, (c) => `dsum = fma(g${c}, O[qBase + ${c}], dsum);`)}
  let D = dsum.x + dsum.y + dsum.z + dsum.w;
  ${unroll(q4, (c) => `var dq${c} = vec4<f32>(0.0);`)}
  for (var t0 = 0; t0 < u.T; t0 = t0 + ${bc}) {
    workgroupBarrier();
    ${loadTile(q4, bc, rows, [['Ks', 'K[kvBase + row * u.W4 + c]'], ['Vs', 'V[kvBase + row * u.W4 + c]']], 't0 + r', 'row < u.T')}
    workgroupBarrier();
    let n = limit - t0;
    ${unroll(bc, (j) => `if (${j} < n) {
      ${dotAcc(q4, 'a', 'q', 'Ks', `${j * q4}`)}
      ${dotAcc(q4, 'e', 'g', 'Vs', `${j * q4}`)}
      let p = exp(a.x + a.y + a.z + a.w - lse);
      let ds = vec4<f32>(p * (e.x + e.y + e.z + e.w - D));
      ${unroll(q4, (c) => `dq${c} = fma(ds, Ks[${j * q4 + c}], dq${c});`, ' ')}
    }`, '\n    ')}
  }
  if (valid) {
    ${unroll(q4, (c) => `DQ[qBase + ${c}] = dq${c} * u.scale;`)}
  }
}`;
}

/** dk (which 'k') or dv ('v') per key row: one thread per key, query tiles through shared memory. */
function dkvCode(d: Dims, rows: number, which: 'k' | 'v'): string {
  const hd = d.W / d.H, q4 = hd / 4, bc = BC_BWD;
  const dk = which === 'k';
  return `${header(d, ['OUT: array<vec4<f32>>'], ['Q: array<vec4<f32>>', 'K: array<vec4<f32>>', 'V: array<vec4<f32>>', 'O: array<vec4<f32>>', 'DO: array<vec4<f32>>', 'LSE: array<f32>', ...(d.hasPos ? ['POS: array<i32>'] : [])])}
var<workgroup> Qs : array<vec4<f32>, ${bc * q4}>;
var<workgroup> Gs : array<vec4<f32>, ${bc * q4}>;
var<workgroup> Ls : array<f32, ${bc}>;
var<workgroup> Ds : array<f32, ${bc}>;
var<workgroup> Lim : array<i32, ${bc}>;
@compute @workgroup_size(${rows})
fn main(@builtin(local_invocation_id) lid : vec3<u32>, @builtin(workgroup_id) wid : vec3<u32>) {
  let tid = i32(lid.x);
  let h = i32(wid.y);
  let b = i32(wid.z);
  let j = i32(wid.x) * ${rows} + tid;
  let valid = j < u.T;
  let kBase = (b * u.T + min(j, u.T - 1)) * u.W4 + h * ${q4};
  let qBase = b * u.Tq * u.W4 + h * ${q4};
  ${unroll(q4, (c) => `let k${c} = K[kBase + ${c}];`)}
  ${dk ? unroll(q4, (c) => `let v${c} = V[kBase + ${c}];`) : 'if (u.T < 0) { OUT[0] = V[0]; } // V unused by dv: keeps its binding in the auto layout'}
  ${unroll(q4, (c) => `var acc${c} = vec4<f32>(0.0);`)}
  for (var t0 = 0; t0 < u.Tq; t0 = t0 + ${bc}) {
    workgroupBarrier();
    ${loadTile(q4, bc, rows, [['Qs', 'Q[qBase + row * u.W4 + c] * u.scale'], ['Gs', 'DO[qBase + row * u.W4 + c]']], 't0 + r', 'row < u.Tq')}
    if (tid < ${bc}) {
      let i = t0 + tid;
      let sr = (b * u.H + h) * u.Tq + min(i, u.Tq - 1);
      Ls[tid] = LSE[sr];
      // D = rowsum(dOut ∘ out) of query row i, head h
      let ob = (b * u.Tq + min(i, u.Tq - 1)) * u.W4 + h * ${q4};
      var dsum = vec4<f32>(0.0);
      for (var c = 0; c < ${q4}; c = c + 1) { dsum = fma(DO[ob + c], O[ob + c], dsum); }
      Ds[tid] = dsum.x + dsum.y + dsum.z + dsum.w;
      Lim[tid] = select(0, keyLimit(b, i), i < u.Tq); // rows past Tq see no key
    }
    workgroupBarrier();
    ${unroll(bc, (i) => `if (j < Lim[${i}]) {
      ${dotAcc(q4, 'a', 'k', 'Qs', `${i * q4}`)}
      let p = exp(a.x + a.y + a.z + a.w - Ls[${i}]);
      ${dk ? `${dotAcc(q4, 'e', 'v', 'Gs', `${i * q4}`)}
      let w = vec4<f32>(p * (e.x + e.y + e.z + e.w - Ds[${i}]));
      ${unroll(q4, (c) => `acc${c} = fma(w, Qs[${i * q4 + c}], acc${c});`, ' ')}` : `let w = vec4<f32>(p);
      ${unroll(q4, (c) => `acc${c} = fma(w, Gs[${i * q4 + c}], acc${c});`, ' ')}`}
    }`, '\n    ')}
  }
  if (valid) {
    ${unroll(q4, (c) => `OUT[kBase + ${c}] = acc${c};`)}
  }
}`;
}

const key = (name: string, d: Dims, rows: number) => `${name}_${d.W / d.H}_${rows}_${d.causal ? 'c' : 'n'}${d.hasPos ? 'p' : ''}`;

let registered = false;
/** Registers the three kernels for webgpu (idempotent; harmless when webgpu never starts). */
export function registerWebgpuAttention(): void {
  if (registered) return;
  registered = true;
  type In = Record<'q' | 'k' | 'v' | 'out' | 'dOut' | 'lse' | 'pos', tf.TensorInfo>;
  const dims = (attrs: unknown, inputs: In): Dims => ({ ...(attrs as Omit<Dims, 'hasPos'>), hasPos: inputs.pos != null });
  const pos = (inputs: In) => (inputs.pos ? [inputs.pos] : []);
  tf.registerKernel({ kernelName: LW_ATTENTION, backendName: 'webgpu', kernelFunc: ({ inputs, backend, attrs }) => {
    const i = inputs as unknown as In, d = dims(attrs, i), rows = rowsPerGroup(d.Tq);
    const p: RawProgram = { key: key('lwAttention', d, rows), code: () => forwardCode(d, rows), dispatch: [Math.ceil(d.Tq / rows), d.H, d.B],
      outputs: [{ shape: [d.B * d.Tq, d.W], dtype: 'float32' }, { shape: [d.B, d.H, d.Tq], dtype: 'float32' }] };
    return runRaw(backend, p, [i.q, i.k, i.v, ...pos(i)], uniforms(d));
  } });
  tf.registerKernel({ kernelName: LW_ATTENTION_DQ, backendName: 'webgpu', kernelFunc: ({ inputs, backend, attrs }) => {
    const i = inputs as unknown as In, d = dims(attrs, i), rows = rowsPerGroup(d.Tq);
    const p: RawProgram = { key: key('lwAttentionDq', d, rows), code: () => dqCode(d, rows), dispatch: [Math.ceil(d.Tq / rows), d.H, d.B],
      outputs: [{ shape: [d.B * d.Tq, d.W], dtype: 'float32' }] };
    return runRaw(backend, p, [i.q, i.k, i.v, i.out, i.dOut, i.lse, ...pos(i)], uniforms(d))[0];
  } });
  tf.registerKernel({ kernelName: LW_ATTENTION_DKV, backendName: 'webgpu', kernelFunc: ({ inputs, backend, attrs }) => {
    const i = inputs as unknown as In, d = dims(attrs, i), rows = rowsPerGroup(d.T);
    const which = (attrs as unknown as { which: 'k' | 'v' }).which;
    const p: RawProgram = { key: key(`lwAttentionD${which}`, d, rows), code: () => dkvCode(d, rows, which), dispatch: [Math.ceil(d.T / rows), d.H, d.B],
      outputs: [{ shape: [d.B * d.T, d.W], dtype: 'float32' }] };
    return runRaw(backend, p, [i.q, i.k, i.v, i.out, i.dOut, i.lse, ...pos(i)], uniforms(d))[0];
  } });
}

// Off by default until measured on a GPU (issue 20, session 6: written and checked on lavapipe only).
let enabled = false;
/** Turns the fused kernels on or off (off: the composed ops everywhere): for before/after benchmarks. */
export function setFusedAttentionEnabled(on: boolean): void {
  enabled = on;
}

/** Whether the fused kernels serve attention with head width `hd` on the current backend. */
export function fusedAttentionApplies(hd: number): boolean {
  return enabled && registered && tf.getBackend() === 'webgpu' && hd % 4 === 0 && hd <= 64;
}

export interface AttentionShape {
  B: number;
  /** Query rows per sequence (1 with `at`) and keys per sequence. */
  Tq: number;
  T: number;
  heads: number;
  scale: number;
  causal: boolean;
  /** With `causal`: the position of each sequence's single query row (Tq = 1). */
  at?: ArrayLike<number>;
}

/**
 * softmax(scale · q kᵀ (+ causal mask)) v per head, differentiable in q, k and v (webgpu only).
 * q [B*Tq, W], k, v [B*T, W] -> [B*Tq, W].
 */
export function fusedAttention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, s: AttentionShape): tf.Tensor2D {
  const W = q.shape[1];
  const attrs = { B: s.B, Tq: s.Tq, T: s.T, H: s.heads, W, scale: s.scale, causal: s.causal } as unknown as tf.NamedAttrMap;
  const pos = s.causal && s.at ? tf.tensor1d(Int32Array.from(s.at), 'int32') : null;
  const withPos = (m: Record<string, tf.Tensor>) => (pos ? { ...m, pos } : m);
  // pos is not an input of the op: save() keeps it alive for the backward pass.
  const op = customGrad(((qi: tf.Tensor2D, ki: tf.Tensor2D, vi: tf.Tensor2D, save: tf.GradSaveFunc) => {
    const [out, lse] = tf.engine().runKernel(LW_ATTENTION, withPos({ q: qi, k: ki, v: vi }), attrs) as tf.Tensor[];
    save([qi, ki, vi, out, lse, ...(pos ? [pos] : [])]);
    return {
      value: out,
      gradFunc: (dOut: tf.Tensor, saved: tf.Tensor[]) => {
        const [qs, ks, vs, os, ls] = saved;
        const m = (extra: Record<string, tf.Tensor>) => withPos({ q: qs, k: ks, v: vs, ...extra });
        const dq = tf.engine().runKernel(LW_ATTENTION_DQ, m({ out: os, dOut, lse: ls }), attrs) as tf.Tensor;
        const dkv = (which: 'k' | 'v') => tf.engine().runKernel(LW_ATTENTION_DKV, m({ out: os, dOut, lse: ls }), { ...attrs, which } as unknown as tf.NamedAttrMap) as tf.Tensor;
        return [dq, dkv('k'), dkv('v')];
      },
    };
  }));
  return op(q, k, v) as tf.Tensor2D;
}
