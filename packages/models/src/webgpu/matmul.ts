import { tf } from '../tf.js';
import { elementwise } from './elementwise.js';
import { runProgram, type WebGPUProgram } from './program.js';

/**
 * A plain fp32 matMul for tfjs' webgpu backend, registered as the kernel `LwMatMul`.
 *
 * Why: tfjs-webgpu's MatMulPacked gives each thread a 4x4 block of a 32x32 tile, which reads shared
 * memory once per 2 multiply-adds and reaches ~23 TFLOP/s on an H200. Here each thread computes an
 * 8x8 block of a 128x128 tile (16x16 threads; 64x64 with 8x8 threads for small ragged products), so
 * every shared-memory read feeds 4 multiply-adds, and the next K-slice is fetched into registers while
 * the current one is used.
 *
 * Layout: a [batch, M, K] x b [batch, K, N] -> [batch, M, N], row-major, no transposes (the model's
 * custom gradients already express every product as a plain one). Loads are vec4 along K for A and
 * along N for B when K and N are multiples of 4, else four scalar loads each (attention's 257-long
 * sides); M, N and K need not be multiples of the tile.
 */
export const LW_MATMUL = 'LwMatMul';
export const LW_SUM_SPLITS = 'LwSumSplits';
/** The same kernel storing in attention's head layout (its own name, so profiles and tests can tell). */
export const LW_MATMUL_HEADS = 'LwMatMulHeads';

export interface MatMulTiling {
  /** K-slice per shared-memory stage: 8, 16 (16 KiB of shared memory at 128x128 tiles) or 32 (32 KiB). */
  bk: 8 | 16 | 32;
  /** Also serve products whose K or N is not a multiple of 4, with scalar loads (default true). */
  ragged?: boolean;
  /** Shortest K range of one K-split (kSplits; default 256). */
  splitK?: number;
}

/** One compiled variant: tile side (8 outputs per thread per side), K-slice, and vec4 or scalar memory access. */
interface Variant {
  /** Threads per side; the tile is 8 * wg outputs per side: 16 -> 128x128, 8 -> 64x64. */
  wg: 8 | 16;
  bk: 8 | 16 | 32;
  /** vec4 loads and stores (K and N multiples of 4), else scalar ones built into vec4s (any K, N). */
  vec: boolean;
  /** A bias [N] added to every row as the result is stored (a linear layer's, in the same pass). */
  bias?: boolean;
  /** Store in attention's head layout (heads.ts' HeadsLayout) instead of [M, N] rows (vec4 variants only). */
  heads?: HeadsLayout;
}

/**
 * Where a projection [B*T, H*hd] goes for attention, written by the product's stores: row b*T + t,
 * column h*hd + d to [B*H, T, hd] (queries, values) or, `transposed`, [B*H, hd, T] (keys), times
 * `scale`. Without it each projection is followed by a reshape-transpose-reshape: one more pass
 * over [B*T, W] each (ViT-L/14 at batch 64: 5 a step, ~0.9 ms on an H200).
 */
export interface HeadsLayout {
  T: number;
  H: number;
  hd: number;
  transposed: boolean;
  scale: number;
}

/**
 * WGSL body for tfjs' shader preamble (which declares A, B, result, uniforms and the ids). Every loop
 * with a constant trip count is unrolled here, so register arrays are only ever indexed by constants.
 */
function shaderSource({ wg, bk, vec, bias, heads }: Variant): string {
  const tile = 8 * wg;
  const loads = (tile * bk) / 4 / (wg * wg); // vec4s of A (and of B) per thread per stage
  const aQuads = bk / 4, bQuads = tile / 4; // vec4 slots per row of the A stage / per k of the B stage
  const unroll = (n: number, line: (i: number) => string) => Array.from({ length: n }, (_, i) => line(i)).join('\n    ');
  const fmas: string[] = [];
  for (let r = 0; r < 8; r++) {
    const [v, comp] = r < 4 ? ['a0', 'xyzw'[r]] : ['a1', 'xyzw'[r - 4]];
    fmas.push(`acc${2 * r} = fma(vec4<f32>(${v}.${comp}), b0, acc${2 * r});`);
    fmas.push(`acc${2 * r + 1} = fma(vec4<f32>(${v}.${comp}), b1, acc${2 * r + 1});`);
  }
  const inner = Array.from({ length: bk }, (_, k) => `{
        let a0 = As[${k}][ty];
        let a1 = As[${k}][ty + ${wg}];
        let b0 = Bs[${k}][tx];
        let b1 = Bs[${k}][tx + ${wg}];
        ${fmas.join('\n        ')}
      }`).join('\n      ');
  // Scalar path: four guarded loads from `buf` at i..i+3, the j-th kept while `pos` + j < `limit`.
  const load4 = (buf: string, outer: string, i: string, pos: string, limit: string) => `var v = vec4<f32>(0.0);
    if (${outer}) {
      let i = ${i};
      if (${pos} < ${limit}) { v.x = ${buf}[i]; }
      if (${pos} + 1 < ${limit}) { v.y = ${buf}[i + 1]; }
      if (${pos} + 2 < ${limit}) { v.z = ${buf}[i + 2]; }
      if (${pos} + 3 < ${limit}) { v.w = ${buf}[i + 3]; }
    }
    return v;`;
  const loadA = vec
    ? `if (row < M && k < K) { return A[(base + row * uniforms.aShape[2] + k) / 4]; }
    return vec4<f32>(0.0);`
    : load4('A', 'row < M', 'base + row * uniforms.aShape[2] + k', 'k', 'K');
  const loadB = vec
    ? `if (k < K && col < N) { return B[(base + k * N + col) / 4]; }
    return vec4<f32>(0.0);`
    : load4('B', 'k < K', 'base + k * N + col', 'col', 'N');
  const biased = bias ? 'v + Bias[c / 4]' : 'v'; // the vec4 and head-layout stores (the scalar ones add Bias[c + j] each)
  const f32 = (x: number) => (Number.isInteger(x) ? `${x}.0` : `${x}`);
  const headsStore = (h: HeadsLayout) => `let b = row / ${h.T};
    let t = row % ${h.T};
    let o = (${biased}) * ${f32(h.scale)};
    if (c < N) {
      ${h.transposed
    ? `let i = ((b * ${h.H} + c / ${h.hd}) * ${h.hd} + c % ${h.hd}) * ${h.T} + t; // [B*H, hd, T]: the 4 columns are T apart
      result[i / 4][i % 4] = o.x;
      result[(i + ${h.T}) / 4][(i + ${h.T}) % 4] = o.y;
      result[(i + ${2 * h.T}) / 4][(i + ${2 * h.T}) % 4] = o.z;
      result[(i + ${3 * h.T}) / 4][(i + ${3 * h.T}) % 4] = o.w;`
    : `result[(((b * ${h.H} + c / ${h.hd}) * ${h.T} + t) * ${h.hd} + c % ${h.hd}) / 4] = o; // [B*H, T, hd]`}
    }`;
  const store = heads ? headsStore(heads) : vec
    ? `if (c < N) { result[(outBase + row * N + c) / 4] = ${biased}; }`
    : `let i = outBase + row * N + c;
    if (c < N) { result[i] = v.x${bias ? ' + Bias[c]' : ''}; }
    if (c + 1 < N) { result[i + 1] = v.y${bias ? ' + Bias[c + 1]' : ''}; }
    if (c + 2 < N) { result[i + 2] = v.z${bias ? ' + Bias[c + 2]' : ''}; }
    if (c + 3 < N) { result[i + 3] = v.w${bias ? ' + Bias[c + 3]' : ''}; }`;
  const stores: string[] = [];
  for (let r = 0; r < 8; r++) {
    const row = r < 4 ? `row0 + ty * 4 + ${r}` : `row0 + ${tile / 2} + ty * 4 + ${r - 4}`;
    stores.push(`store(outBase, M, N, ${row}, col0 + tx * 4, acc${2 * r});`);
    stores.push(`store(outBase, M, N, ${row}, col0 + ${tile / 2} + tx * 4, acc${2 * r + 1});`);
  }
  const fetch = (k0: string) => unroll(loads, (i) => `let s${i} = tid + ${i * wg * wg};
    aReg${i} = loadA(aBase, M, K, row0 + s${i} / ${aQuads}, ${k0} + (s${i} % ${aQuads}) * 4);
    bReg${i} = loadB(bBase, K, N, ${k0} + s${i} / ${bQuads}, col0 + (s${i} % ${bQuads}) * 4);`);
  return `
  // As[k][m4]: the A tile transposed, so a thread reads 4 consecutive rows as one vec4.
  var<workgroup> As: array<array<vec4<f32>, ${tile / 4}>, ${bk}>;
  var<workgroup> Bs: array<array<vec4<f32>, ${tile / 4}>, ${bk}>;

  fn loadA(base: i32, M: i32, K: i32, row: i32, k: i32) -> vec4<f32> {
    ${loadA}
  }
  fn loadB(base: i32, K: i32, N: i32, k: i32, col: i32) -> vec4<f32> {
    ${loadB}
  }
  fn store(outBase: i32, M: i32, N: i32, row: i32, c: i32, v: vec4<f32>) {
    if (row >= M) { return; }
    ${store}
  }

  fn main() {
    let tx = i32(localId.x);
    let ty = i32(localId.y);
    let tid = ty * ${wg} + tx;
    // z = batch * splits + split: a split computes the partial product over its own K range.
    let batch = i32(workgroupId.z) / uniforms.splits;
    let split = i32(workgroupId.z) % uniforms.splits;
    let M = uniforms.aShape[1];
    let Kfull = uniforms.aShape[2];
    let N = uniforms.bShape[2];
    let kFirst = split * uniforms.kChunk;
    let K = min(Kfull, kFirst + uniforms.kChunk) - kFirst; // this split's K
    let aBase = batch * M * Kfull + kFirst; // A rows keep their full stride Kfull
    let bBase = (batch * Kfull + kFirst) * N;
    let row0 = i32(workgroupId.y) * ${tile};
    let col0 = i32(workgroupId.x) * ${tile};

    ${unroll(loads, (i) => `var aReg${i}: vec4<f32>;
    var bReg${i}: vec4<f32>;`)}
    ${unroll(16, (i) => `var acc${i} = vec4<f32>(0.0);`)}
    // From uniforms only: the loop holds barriers, so its trip count must be uniform (a split's ragged
    // end is read as zeros by the guards in loadA/loadB).
    let numTiles = (uniforms.kChunk + ${bk - 1}) / ${bk};

    // A stage: ${tile} rows x ${bk} k; slot s covers row s / ${aQuads}, k-quad s % ${aQuads}.
    // B stage: ${bk} k x ${tile} cols; slot s covers k s / ${bQuads}, col-quad s % ${bQuads}.
    {
    ${fetch('0')}
    }

    for (var t = 0; t < numTiles; t++) {
      workgroupBarrier();
      {
      ${unroll(loads, (i) => `let s${i} = tid + ${i * wg * wg};
      let r${i} = s${i} / ${aQuads};
      let kq${i} = (s${i} % ${aQuads}) * 4;
      As[kq${i}][r${i} / 4][r${i} % 4] = aReg${i}.x;
      As[kq${i} + 1][r${i} / 4][r${i} % 4] = aReg${i}.y;
      As[kq${i} + 2][r${i} / 4][r${i} % 4] = aReg${i}.z;
      As[kq${i} + 3][r${i} / 4][r${i} % 4] = aReg${i}.w;
      Bs[s${i} / ${bQuads}][s${i} % ${bQuads}] = bReg${i};`)}
      }
      workgroupBarrier();
      if (t + 1 < numTiles) {
        let k0 = (t + 1) * ${bk};
        ${fetch('k0')}
      }
      // Rows ty*4..+3 and ${tile / 2}+ty*4..+3, columns tx*4..+3 and ${tile / 2}+tx*4..+3: neighbouring threads read
      // neighbouring vec4s (no bank conflicts), and 4 rows x 4 columns come from 4 vec4 reads.
      ${inner}
    }

    let outBase = i32(workgroupId.z) * M * N;
    ${stores.join('\n    ')}
  }
`;
}

function program(batch: number, M: number, N: number, splits: number, v: Variant): WebGPUProgram {
  const tile = 8 * v.wg, c = v.vec ? 4 : 1;
  return {
    outputShape: v.heads ? headsShape(M, v.heads) : [batch * splits, M, N],
    shaderKey: `lwMatMul_${v.wg}_${v.bk}_${v.vec ? 'vec4' : 'scalar'}${v.bias ? '_bias' : ''}${v.heads ? `_heads${JSON.stringify(v.heads)}` : ''}`,
    dispatchLayout: { x: [2], y: [1], z: [0] },
    dispatch: [Math.ceil(N / tile), Math.ceil(M / tile), batch * splits],
    variableNames: v.bias ? ['A', 'B', 'Bias'] : ['A', 'B'],
    variableComponents: v.bias ? [c, c, c] : [c, c],
    outputComponent: c,
    workgroupSize: [v.wg, v.wg, 1],
    uniforms: 'splits : i32, kChunk : i32,',
    getUserCode: () => shaderSource(v),
  };
}

/**
 * The variant for a product: 64x64 tiles where 128x128 ones would waste a third of their area on a
 * ragged edge (attention's 257-long sides: 384x384 computed for 257x257 at 128, 320x320 at 64), vec4
 * access where K and N allow it.
 */
function variantFor(M: number, K: number, N: number): Variant {
  const padded = (t: number) => Math.ceil(M / t) * t * Math.ceil(N / t) * t;
  const wg = padded(64) < 0.8 * padded(128) ? 8 : 16;
  return { wg, bk: tiling.bk, vec: K % 4 === 0 && N % 4 === 0 };
}

/**
 * K-splits for a product whose output has few tiles (a weight gradient: [1024, 16448] x [16448, 1024]
 * is 64 tiles for 132 multiprocessors; the CLS and EOT rows' products, [64, 1024] x [1024, 4096], are
 * 32): enough splits to reach ~2 workgroups per multiprocessor, each at least `minChunk` long in K
 * (tiling.splitK, default 256), a multiple of 32 (the largest K-slice) so only the last split is ragged.
 */
export function kSplits(batch: number, M: number, K: number, N: number, tile = 128, minChunk = tiling.splitK ?? 256): { splits: number; kChunk: number } {
  const tiles = batch * Math.ceil(M / tile) * Math.ceil(N / tile);
  const splits = Math.max(1, Math.min(Math.floor(256 / tiles), Math.floor(K / minChunk)));
  const kChunk = Math.ceil(K / splits / 32) * 32;
  return { splits: Math.ceil(K / kChunk), kChunk };
}

let tiling: MatMulTiling = { bk: 16 };
/** Picks the K-slice (benchmarks compare them). */
export function setMatMulTiling(t: MatMulTiling): void {
  tiling = t;
}

let registered = false;
/** Registers `LwMatMul` for the webgpu backend (idempotent; harmless when webgpu never starts). */
export function registerWebgpuMatMul(): void {
  if (registered) return;
  registered = true;
  registerSumSplits();
  const kernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
    const { a: a0, b: b0, bias } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo };
    // 2-D operands are viewed as a batch of one here, as tfjs' own Reshape does (same data, another
    // shape): no Reshape ops in the engine around every linear layer.
    const a = batchOfOne(a0), b = batchOfOne(b0);
    const [batch, M] = a.shape;
    const N = b.shape[2];
    const { splits, kChunk, wg, bk, vec, heads } = attrs as unknown as { splits: number; kChunk: number } & Variant;
    const out = runProgram(backend, program(batch, M, N, splits, { wg, bk, vec, heads, bias: bias != null }), bias ? [a, b, bias] : [a, b], [splits, kChunk]);
    return a0.shape.length === 2 && splits === 1 && !heads ? { ...out, shape: [M, N] } : out;
  };
  tf.registerKernel({ kernelName: LW_MATMUL, backendName: 'webgpu', kernelFunc });
  tf.registerKernel({ kernelName: LW_MATMUL_HEADS, backendName: 'webgpu', kernelFunc });
}

/** [B*H, T, hd], or [B*H, hd, T] transposed, for a projection of M = B*T rows. */
const headsShape = (M: number, h: HeadsLayout) => (h.transposed ? [(M / h.T) * h.H, h.hd, h.T] : [(M / h.T) * h.H, h.T, h.hd]);

const batchOfOne = (t: tf.TensorInfo): tf.TensorInfo => (t.shape.length === 2 ? { ...t, shape: [1, ...t.shape] } : t);

/**
 * x [batch * splits, M, N] -> [batch, M, N], the sum over each batch's splits in split order: one pass
 * (tf.sum over axis 1 of [batch, splits, M, N] took ~0.7 ms for 4 x 1024 x 1024 on the H200).
 */
function registerSumSplits(): void {
  tf.registerKernel({
    kernelName: LW_SUM_SPLITS,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x } = inputs as { x: tf.TensorInfo };
      const { splits, rank } = attrs as unknown as { splits: number; rank: number };
      const [bs, M, N] = x.shape;
      const p = elementwise('lwSumSplits', [bs / splits, M, N], ['X'], `
          let b = index / uniforms.mn;
          let i = index % uniforms.mn;
          var acc = 0.0;
          for (var s = 0; s < uniforms.splits; s++) {
            acc = acc + X[(b * uniforms.splits + s) * uniforms.mn + i];
          }
          setOutputAtIndex(index, acc);`, 'splits : i32, mn : i32,');
      const out = runProgram(backend, p, [x], [splits, M * N]);
      return rank === 2 ? { ...out, shape: [M, N] } : out; // the sum of a 2-D product's splits: 2-D again
    },
  });
}

let enabled = true;
/** Turns our kernel off (tf.matMul everywhere): for before/after benchmarks. */
export function setLwMatMulEnabled(on: boolean): void {
  enabled = on;
}

/** Whether `LwMatMul` serves a [.., M, K] x [.., K, N] product on the current backend. */
export function lwMatMulApplies(M: number, K: number, N: number): boolean {
  const ragged = K % 4 !== 0 || N % 4 !== 0;
  return enabled && registered && tf.getBackend() === 'webgpu' && M >= 32 && N >= 32 && K >= 8 && (!ragged || tiling.ragged !== false);
}

/**
 * Whether lwMatMulHeads serves x [M, K] x wT [K, N]: our kernel with vec4 access in one pass (no K-splits),
 * M a whole number of sequences of T rows.
 */
export function lwMatMulHeadsApplies(M: number, K: number, N: number, h: HeadsLayout): boolean {
  return lwMatMulApplies(M, K, N) && K % 4 === 0 && N % 4 === 0 && N === h.H * h.hd && h.hd % 4 === 0 && M % h.T === 0
    && kSplits(1, M, K, N, 8 * variantFor(M, K, N).wg).splits === 1;
}

/**
 * (x [M, K] x wT [K, N] + bias [N]) · scale, stored in attention's head layout (HeadsLayout): [B*H, T, hd]
 * or [B*H, hd, T]. Call only where lwMatMulHeadsApplies. Not differentiable by itself (layers.ts wraps it).
 */
export function lwMatMulHeads(x: tf.Tensor2D, wT: tf.Tensor2D, bias: tf.Tensor1D, heads: HeadsLayout): tf.Tensor3D {
  const [M, K] = x.shape, N = wT.shape[1], variant = variantFor(M, K, N);
  const attrs = { splits: 1, kChunk: kSplits(1, M, K, N, 8 * variant.wg).kChunk, ...variant, heads } as unknown as tf.NamedAttrMap;
  return tf.engine().runKernel(LW_MATMUL_HEADS, { a: x, b: wT, bias }, attrs) as tf.Tensor3D;
}

/**
 * a [batch, M, K] x b [batch, K, N] (+ bias [N] on every row) -> [batch, M, N] through `LwMatMul`
 * (call only when it applies); products with few output tiles and a long K run as K-splits summed
 * afterwards. The bias is added in the product's own stores (one pass less over the output), or, after
 * K-splits, to their sum. Not differentiable by itself: callers (layers.ts) wrap it in custom gradients.
 */
export function lwMatMul<R extends tf.Tensor2D | tf.Tensor3D>(a: R, b: R, bias?: tf.Tensor1D): R {
  const [M, K] = a.shape.slice(-2), N = b.shape[b.rank - 1], batch = a.rank === 3 ? a.shape[0] : 1;
  const variant = variantFor(M, K, N);
  const { splits, kChunk } = kSplits(batch, M, K, N, 8 * variant.wg);
  const attrs = { splits, kChunk, ...variant } as unknown as tf.NamedAttrMap;
  const inputs: tf.NamedTensorMap = bias && splits === 1 ? { a, b, bias } : { a, b };
  const out = tf.engine().runKernel(LW_MATMUL, inputs, attrs) as R; // [M, N] or [batch, M, N]; with splits [batch * splits, M, N]
  if (splits === 1) return out;
  const summed = tf.engine().runKernel(LW_SUM_SPLITS, { x: out }, { splits, rank: a.rank } as unknown as tf.NamedAttrMap) as R;
  out.dispose();
  if (!bias) return summed;
  const biased = tf.add(summed, bias) as R;
  summed.dispose();
  return biased;
}
