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

export interface MatMulTiling {
  /** K-slice per shared-memory stage: 8, 16 (16 KiB of shared memory at 128x128 tiles) or 32 (32 KiB). */
  bk: 8 | 16 | 32;
  /** Also serve products whose K or N is not a multiple of 4, with scalar loads (default true). */
  ragged?: boolean;
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
}

/**
 * WGSL body for tfjs' shader preamble (which declares A, B, result, uniforms and the ids). Every loop
 * with a constant trip count is unrolled here, so register arrays are only ever indexed by constants.
 */
function shaderSource({ wg, bk, vec, bias }: Variant): string {
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
  const store = vec
    ? `if (c < N) { result[(outBase + row * N + c) / 4] = v${bias ? ' + Bias[c / 4]' : ''}; }`
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
    outputShape: [batch * splits, M, N],
    shaderKey: `lwMatMul_${v.wg}_${v.bk}_${v.vec ? 'vec4' : 'scalar'}${v.bias ? '_bias' : ''}`,
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
 * is 64 tiles for 132 multiprocessors): enough splits to reach ~2 workgroups per multiprocessor,
 * each at least 1024 long in K, a multiple of 32 (the largest K-slice) so only the last split is ragged.
 */
export function kSplits(batch: number, M: number, K: number, N: number, tile = 128): { splits: number; kChunk: number } {
  const tiles = batch * Math.ceil(M / tile) * Math.ceil(N / tile);
  const splits = Math.max(1, Math.min(Math.floor(256 / tiles), Math.floor(K / 1024)));
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
  tf.registerKernel({
    kernelName: LW_MATMUL,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { a, b, bias } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo };
      const [batch, M] = a.shape;
      const N = b.shape[2];
      const { splits, kChunk, wg, bk, vec } = attrs as unknown as { splits: number; kChunk: number } & Variant;
      return runProgram(backend, program(batch, M, N, splits, { wg, bk, vec, bias: bias != null }), bias ? [a, b, bias] : [a, b], [splits, kChunk]);
    },
  });
}

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
      const { splits } = attrs as unknown as { splits: number };
      const [bs, M, N] = x.shape;
      const p = elementwise('lwSumSplits', [bs / splits, M, N], ['X'], `
          let b = index / uniforms.mn;
          let i = index % uniforms.mn;
          var acc = 0.0;
          for (var s = 0; s < uniforms.splits; s++) {
            acc = acc + X[(b * uniforms.splits + s) * uniforms.mn + i];
          }
          setOutputAtIndex(index, acc);`, 'splits : i32, mn : i32,');
      return runProgram(backend, p, [x], [splits, M * N]);
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
 * a [batch, M, K] x b [batch, K, N] (+ bias [N] on every row) -> [batch, M, N] through `LwMatMul`
 * (call only when it applies); products with few output tiles and a long K run as K-splits summed
 * afterwards. The bias is added in the product's own stores (one pass less over the output), or, after
 * K-splits, to their sum. Not differentiable by itself: callers (layers.ts) wrap it in custom gradients.
 */
export function lwMatMul(a: tf.Tensor3D, b: tf.Tensor3D, bias?: tf.Tensor1D): tf.Tensor3D {
  const [batch, M, K] = a.shape, N = b.shape[2];
  const variant = variantFor(M, K, N);
  const { splits, kChunk } = kSplits(batch, M, K, N, 8 * variant.wg);
  const attrs = { splits, kChunk, ...variant } as unknown as tf.NamedAttrMap;
  const inputs: tf.NamedTensorMap = bias && splits === 1 ? { a, b, bias } : { a, b };
  const out = tf.engine().runKernel(LW_MATMUL, inputs, attrs) as tf.Tensor3D; // [batch * splits, M, N]
  if (splits === 1) return out;
  const summed = tf.engine().runKernel(LW_SUM_SPLITS, { x: out }, { splits } as unknown as tf.NamedAttrMap) as tf.Tensor3D;
  out.dispose();
  if (!bias) return summed;
  const biased = tf.add(summed, bias) as tf.Tensor3D;
  summed.dispose();
  return biased;
}
