import { tf } from '../tf.js';
import { elementwise } from './elementwise.js';
import { runProgram, type WebGPUProgram } from './program.js';

/**
 * A plain fp32 matMul for tfjs' webgpu backend, registered as the kernel `LwMatMul`.
 *
 * Why: tfjs-webgpu's MatMulPacked gives each thread a 4x4 block of a 32x32 tile, which reads shared
 * memory once per 2 multiply-adds and reaches ~23 TFLOP/s on an H200. Here a workgroup of 16x16
 * threads computes a 128x128 tile and each thread an 8x8 block, so every shared-memory read feeds
 * 4 multiply-adds, and the next K-slice is fetched into registers while the current one is used.
 *
 * Layout: a [batch, M, K] x b [batch, K, N] -> [batch, M, N], row-major, no transposes (the model's
 * custom gradients already express every product as a plain one). Loads are vec4 along K for A and
 * along N for B, so K and N must be multiples of 4; M, N and K need not be multiples of the tile.
 */
export const LW_MATMUL = 'LwMatMul';
export const LW_SUM_SPLITS = 'LwSumSplits';

const TILE = 128; // rows and columns of C per workgroup
const WG = 16; // threads per side: 8x8 outputs each

export interface MatMulTiling {
  /** K-slice per shared-memory stage: 8 (8 KiB of shared memory) or 16 (16 KiB, WebGPU's default limit). */
  bk: 8 | 16;
}

/** WGSL body for tfjs' shader preamble (which declares A, B, result, uniforms and the ids). */
function shaderSource({ bk }: MatMulTiling): string {
  const aLoads = (TILE * bk) / 4 / (WG * WG); // vec4s of A per thread per stage: 1 (bk 8) or 2 (bk 16)
  const bLoads = aLoads;
  const lines: string[] = [];
  for (let r = 0; r < 8; r++) {
    const [vec, comp] = r < 4 ? ['a0', 'xyzw'[r]] : ['a1', 'xyzw'[r - 4]];
    lines.push(`acc[${2 * r}] = fma(vec4<f32>(${vec}.${comp}), b0, acc[${2 * r}]);`);
    lines.push(`acc[${2 * r + 1}] = fma(vec4<f32>(${vec}.${comp}), b1, acc[${2 * r + 1}]);`);
  }
  return `
  // As[k][m4]: the A tile transposed, so a thread reads 4 consecutive rows as one vec4.
  var<workgroup> As: array<array<vec4<f32>, ${TILE / 4}>, ${bk}>;
  var<workgroup> Bs: array<array<vec4<f32>, ${TILE / 4}>, ${bk}>;

  fn loadA(base: i32, M: i32, K: i32, row: i32, k: i32) -> vec4<f32> {
    if (row < M && k < K) { return A[(base + row * uniforms.aShape[2] + k) / 4]; }
    return vec4<f32>(0.0);
  }
  fn loadB(base: i32, K: i32, N: i32, k: i32, col: i32) -> vec4<f32> {
    if (k < K && col < N) { return B[(base + k * N + col) / 4]; }
    return vec4<f32>(0.0);
  }

  fn main() {
    let tx = i32(localId.x);
    let ty = i32(localId.y);
    let tid = ty * ${WG} + tx;
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
    let row0 = i32(workgroupId.y) * ${TILE};
    let col0 = i32(workgroupId.x) * ${TILE};

    var aReg: array<vec4<f32>, ${aLoads}>;
    var bReg: array<vec4<f32>, ${bLoads}>;
    var acc: array<vec4<f32>, 16>;
    // From uniforms only: the loop holds barriers, so its trip count must be uniform (a split's ragged
    // end is read as zeros by the guards in loadA/loadB).
    let numTiles = (uniforms.kChunk + ${bk - 1}) / ${bk};

    // A stage: ${TILE} rows x ${bk} k = ${(TILE * bk) / 4} vec4s; slot s covers row s / ${bk / 4}, k-quad s % ${bk / 4}.
    // B stage: ${bk} k x ${TILE} cols = ${(TILE * bk) / 4} vec4s; slot s covers k s / ${TILE / 4}, col-quad s % ${TILE / 4}.
    for (var i = 0; i < ${aLoads}; i++) {
      let s = tid + i * ${WG * WG};
      aReg[i] = loadA(aBase, M, K, row0 + s / ${bk / 4}, (s % ${bk / 4}) * 4);
      bReg[i] = loadB(bBase, K, N, s / ${TILE / 4}, col0 + (s % ${TILE / 4}) * 4);
    }

    for (var t = 0; t < numTiles; t++) {
      workgroupBarrier();
      for (var i = 0; i < ${aLoads}; i++) {
        let s = tid + i * ${WG * WG};
        let r = s / ${bk / 4};
        let kq = (s % ${bk / 4}) * 4;
        As[kq][r / 4][r % 4] = aReg[i].x;
        As[kq + 1][r / 4][r % 4] = aReg[i].y;
        As[kq + 2][r / 4][r % 4] = aReg[i].z;
        As[kq + 3][r / 4][r % 4] = aReg[i].w;
        Bs[s / ${TILE / 4}][s % ${TILE / 4}] = bReg[i];
      }
      workgroupBarrier();
      if (t + 1 < numTiles) {
        let k0 = (t + 1) * ${bk};
        for (var i = 0; i < ${aLoads}; i++) {
          let s = tid + i * ${WG * WG};
          aReg[i] = loadA(aBase, M, K, row0 + s / ${bk / 4}, k0 + (s % ${bk / 4}) * 4);
          bReg[i] = loadB(bBase, K, N, k0 + s / ${TILE / 4}, col0 + (s % ${TILE / 4}) * 4);
        }
      }
      // Rows ty*4..+3 and 64+ty*4..+3, columns tx*4..+3 and 64+tx*4..+3: neighbouring threads read
      // neighbouring vec4s (no bank conflicts), and 4 rows x 4 columns come from 4 vec4 reads.
      for (var k = 0; k < ${bk}; k++) {
        let a0 = As[k][ty];
        let a1 = As[k][ty + ${WG}];
        let b0 = Bs[k][tx];
        let b1 = Bs[k][tx + ${WG}];
        ${lines.join('\n        ')}
      }
    }

    let outBase = i32(workgroupId.z) * M * N;
    for (var r = 0; r < 8; r++) {
      let row = row0 + select(ty * 4 + r, ${TILE / 2} + ty * 4 + r - 4, r >= 4);
      if (row < M) {
        let c0 = col0 + tx * 4;
        let c1 = col0 + ${TILE / 2} + tx * 4;
        if (c0 < N) { result[(outBase + row * N + c0) / 4] = acc[2 * r]; }
        if (c1 < N) { result[(outBase + row * N + c1) / 4] = acc[2 * r + 1]; }
      }
    }
  }
`;
}

function program(batch: number, M: number, N: number, splits: number, t: MatMulTiling): WebGPUProgram {
  return {
    outputShape: [batch * splits, M, N],
    shaderKey: `lwMatMul_${TILE}_${t.bk}`,
    dispatchLayout: { x: [2], y: [1], z: [0] },
    dispatch: [Math.ceil(N / TILE), Math.ceil(M / TILE), batch * splits],
    variableNames: ['A', 'B'],
    variableComponents: [4, 4],
    outputComponent: 4,
    workgroupSize: [WG, WG, 1],
    uniforms: 'splits : i32, kChunk : i32,',
    getUserCode: () => shaderSource(t),
  };
}

/**
 * K-splits for a product whose output has few tiles (a weight gradient: [1024, 16448] x [16448, 1024]
 * is 64 tiles for 132 multiprocessors): enough splits to reach ~2 workgroups per multiprocessor,
 * each at least 1024 long in K, a multiple of 16 (the K-slice) so only the last split is ragged.
 */
export function kSplits(batch: number, M: number, K: number, N: number): { splits: number; kChunk: number } {
  const tiles = batch * Math.ceil(M / TILE) * Math.ceil(N / TILE);
  const splits = Math.max(1, Math.min(Math.floor(256 / tiles), Math.floor(K / 1024)));
  const kChunk = Math.ceil(K / splits / 16) * 16;
  return { splits: Math.ceil(K / kChunk), kChunk };
}

let tiling: MatMulTiling = { bk: 16 };
/** Picks the K-slice (benchmarks compare both). */
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
      const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const [batch, M] = a.shape;
      const N = b.shape[2];
      const { splits, kChunk } = attrs as unknown as { splits: number; kChunk: number };
      return runProgram(backend, program(batch, M, N, splits, tiling), [a, b], [splits, kChunk]);
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
  return enabled && registered && tf.getBackend() === 'webgpu' && K % 4 === 0 && N % 4 === 0 && M >= 32 && N >= 32 && K >= 8;
}

/**
 * a [batch, M, K] x b [batch, K, N] -> [batch, M, N] through `LwMatMul` (call only when it applies);
 * products with few output tiles and a long K run as K-splits summed afterwards.
 */
export function lwMatMul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const [batch, M, K] = a.shape, N = b.shape[2];
  const { splits, kChunk } = kSplits(batch, M, K, N);
  const attrs = { splits, kChunk } as unknown as tf.NamedAttrMap;
  const out = tf.engine().runKernel(LW_MATMUL, { a, b }, attrs) as tf.Tensor3D; // [batch * splits, M, N]
  if (splits === 1) return out;
  const summed = tf.engine().runKernel(LW_SUM_SPLITS, { x: out }, { splits } as unknown as tf.NamedAttrMap) as tf.Tensor3D;
  out.dispose();
  return summed;
}
