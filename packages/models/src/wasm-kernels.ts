/**
 * Four tfjs-backend-wasm 4.22 kernels replaced with faster ones that compute the same values (the
 * products up to float rounding: with FMA each multiply-add rounds once).
 *
 * BatchMatMul and _FusedMatMul (matMul with a bias): float32 products without transposes run on our
 * SIMD GEMM (wasm-gemm.ts), batched or not, bias included: 46-53 GFLOP/s on one core with FMA
 * (relaxed SIMD), where XNNPACK reaches 21-31 on ViT-L/14's products and less on small ones (its
 * per-call set-up; one call per entry of a batched product). With more than one XNNPACK thread,
 * products from 2^20 multiply-adds (per batch entry) go to XNNPACK's pool instead, which spreads them
 * over the threads (ours runs on the calling thread): one XNNPACK GEMM per batch entry, on
 * [1, M, K] / [1, K, N] / [1, M, N] tensors registered over the entries' own memory (no copies).
 * (The stock kernel sends only single products to XNNPACK and runs batched ones, such as attention's
 * [B*H, T, hd] x [B*H, hd, T], as a scalar loop at ~1.5 GFLOP/s.) Transposed operands and anything
 * else go to the stock kernels.
 *
 * Slice: the stock kernel reads the whole input out of wasm memory (backend.readSync copies it) to
 * take a piece of it, so slicing one image out of a [64, 257, 1024] batch copies all 64. Here the
 * input is read through a view on wasm memory; only the slice is copied. Strings go to the stock kernel.
 *
 * Identity: the stock kernel copies the tensor. tfjs-core runs Identity for every tensor a custom
 * gradient saves for its backward pass (~390 copies per training step of the toy CLIP-HBA), and a
 * copied weight also has a new id, so XNNPACK, which caches its packed weights by tensor id, packs it
 * again. Tensors are immutable, so here the output shares the input's memory (a reference count, as
 * the cpu and webgpu backends and wasm's own Reshape do). Strings go to the stock kernel.
 */
import { tf } from './tf.js';
import { type BatchedGemm, batchedGemm, KC, NC } from './wasm-gemm.js';

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use (not in its public typings). */
interface WasmBackend {
  incRef(dataId: object): void;
  wasm: {
    /** The module's memory: `wasmMemory` in the threaded build, `asm.memory` (its export) otherwise. */
    wasmMemory?: WebAssembly.Memory;
    asm?: { memory?: WebAssembly.Memory };
    _malloc(bytes: number): number;
    cwrap(name: string, ret: null, args: string[]): (...a: unknown[]) => void;
    tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void; getThreadsCount(): number };
  };
  dataIdMap: { get(id: object): { id: number; memoryOffset: number }; set(id: object, v: object): void; delete(id: object): void };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

type KernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => tf.TensorInfo;

let installed = false;
/** Multiply-adds per batch entry from which a multi-threaded backend hands a product to XNNPACK's pool. */
const MIN_POOLED_MACS = 1 << 20;

/** Per backend: XNNPACK's thread count, our GEMM over its memory, and the C BatchMatMul the stock kernel wraps. */
interface WasmInfo {
  threads: number;
  gemm: BatchedGemm | null;
  cBatchMatMul: (...a: unknown[]) => void;
}
const wasmInfo = new WeakMap<WasmBackend, WasmInfo>();
function wasmOf(backend: WasmBackend): WasmInfo {
  let info = wasmInfo.get(backend);
  if (!info) {
    const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
    const scratch = () => backend.wasm._malloc(4 * KC * NC); // kept for the backend's lifetime
    info = {
      threads: backend.wasm.tfjs.getThreadsCount(),
      gemm: memory ? batchedGemm(memory, scratch) : null,
      // tfjs-backend-wasm src/cc/kernels/BatchMatMul.cc
      cBatchMatMul: backend.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']),
    };
    wasmInfo.set(backend, info);
  }
  return info;
}

/**
 * The sizes of a @ b if it is a plain product: float32, no transposes, a [G, M, K] and b [G, K, N]
 * with the same G, or 2-D (G = 1). Otherwise null.
 */
function plainProduct(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): { G: number; M: number; K: number; N: number } | null {
  const rank = a.shape.length;
  if (transposeA || transposeB || a.dtype !== 'float32' || b.dtype !== 'float32' || (rank !== 2 && rank !== 3) || b.shape.length !== rank) return null;
  // tf.matMul hands 2-D operands over as they are, tf.fused.matMul as [1, M, K] x [1, K, N].
  const G = rank === 3 ? a.shape[0] : 1, [M, K] = a.shape.slice(-2), N = b.shape[rank - 1];
  return rank === 3 && b.shape[0] !== G ? null : { G, M, K, N };
}

/** Byte offset of a tensor's data in wasm memory. */
const offset = (backend: WasmBackend, t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;

/**
 * a @ b (+ bias [N]) on our SIMD GEMM (wasm-gemm.ts) for a plain product, except, with a
 * multi-threaded XNNPACK, products large enough for its pool. Otherwise null.
 */
function simdProduct(backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo, bias: tf.TensorInfo | null, transposeA: boolean, transposeB: boolean): tf.TensorInfo | null {
  const p = plainProduct(a, b, transposeA, transposeB);
  if (!p || p.K === 0 || (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1 || bias.shape[0] !== p.N))) return null;
  const { G, M, K, N } = p;
  const { threads, gemm } = wasmOf(backend);
  if (!gemm || (threads > 1 && M * K * N >= MIN_POOLED_MACS)) return null;
  const out = backend.makeOutput(a.shape.length === 3 ? [G, M, N] : [M, N], 'float32');
  gemm(offset(backend, a), offset(backend, b), offset(backend, out), G, M, K, N, bias ? offset(backend, bias) : 0);
  return out;
}

/** Replaces the wasm BatchMatMul, _FusedMatMul, Slice and Identity kernels (once per process; they apply to every later wasm backend). */
export function installWasmKernels(): void {
  if (installed) return;
  installed = true;
  override('BatchMatMul', (stock) => (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA: boolean; transposeB: boolean };
    const backend = args.backend as WasmBackend;
    const ours = simdProduct(backend, a, b, null, transposeA, transposeB);
    if (ours) return ours;
    // Left to XNNPACK: a batched product as one GEMM per entry (the stock kernel would loop in scalar code).
    const p = plainProduct(a, b, transposeA, transposeB);
    if (!p || p.G < 2) return stock(args);
    const { G, M, K, N } = p;
    const { threads, cBatchMatMul } = wasmOf(backend);
    // Every GEMM wakes XNNPACK's thread pool; for small products that hand-off costs more than the
    // product (a width-64 ViT block took 7x the CPU at 2 threads), so they stay on the stock loop.
    if (threads > 1 && M * K * N < MIN_POOLED_MACS) return stock(args);
    const out = backend.makeOutput([G, M, N], 'float32'); // [G, M, N]
    const base = { a: offset(backend, a), b: offset(backend, b), out: offset(backend, out) };
    const shapeBytes = (s: number[]) => new Uint8Array(new Int32Array(s).buffer);
    const aShape = shapeBytes([1, M, K]), bShape = shapeBytes([1, K, N]);
    for (let g = 0; g < G; g++) {
      const ag = alias(backend, base.a + 4 * g * M * K, M * K), bg = alias(backend, base.b + 4 * g * K * N, K * N), og = alias(backend, base.out + 4 * g * M * N, M * N);
      // No transposes, batch 1 on both sides, linear activation, no bias, no prelu: XNNPACK's path.
      cBatchMatMul(ag, aShape, 3, bg, bShape, 3, false, false, og);
      for (const id of [ag, bg, og]) backend.wasm.tfjs.disposeData(id);
    }
    return out;
  });
  override('_FusedMatMul', (stock) => (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const { transposeA, transposeB, activation } = (args.attrs ?? {}) as { transposeA: boolean; transposeB: boolean; activation?: string };
    if (preluActivationWeights || (activation !== undefined && activation !== 'linear')) return stock(args);
    return simdProduct(args.backend as WasmBackend, a!, b!, bias ?? null, transposeA, transposeB) ?? stock(args);
  });
  override('Slice', (stock) => (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return stock(args);
    const backend = args.backend as WasmBackend;
    const { begin, size } = args.attrs as { begin: number[]; size: number[] };
    const [begin_, size_] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    const out = backend.makeOutput(size_, x.dtype);
    // Views only after makeOutput: allocating can grow wasm memory and detach earlier views.
    const xv = backend.typedArrayFromHeap(x), ov = backend.typedArrayFromHeap(out);
    copySlice(xv, x.shape, ov, begin_, size_);
    return out;
  });
  override('Identity', (stock) => (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return stock(args);
    (args.backend as WasmBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
}

/** Registers `count` float32 values at byte `offset` of wasm memory as a C-side tensor; returns its id. */
function alias(backend: WasmBackend, offset: number, count: number): number {
  const id = backend.dataIdNextNumber++;
  backend.wasm.tfjs.registerTensor(id, count, offset);
  return id;
}

/**
 * Copies the box begin..begin+size of x (row-major, shape `shape`) into out. Runs of the innermost
 * contiguous extent are copied with one set() each: trailing axes taken whole merge into the run.
 */
export function copySlice(x: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }, shape: number[], out: { set(v: ArrayLike<number>, o: number): void }, begin: number[], size: number[]): void {
  const rank = shape.length;
  if (rank === 0) {
    out.set(x.subarray(0, 1), 0);
    return;
  }
  // Merge trailing axes that are taken whole into one contiguous run.
  let inner = rank - 1, run = size[rank - 1];
  while (inner > 0 && size[inner] === shape[inner] && begin[inner] === 0) {
    inner--;
    run *= size[inner];
  }
  const strides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  // Outer index over axes 0..inner-1; the run starts at axis `inner`.
  const idx = new Array<number>(inner).fill(0);
  const total = size.slice(0, inner).reduce((p, s) => p * s, 1);
  let o = 0;
  for (let n = 0; n < total; n++) {
    let off = begin[inner] * strides[inner];
    for (let d = 0; d < inner; d++) off += (begin[d] + idx[d]) * strides[d];
    for (let d = inner + 1; d < rank; d++) off += begin[d] * strides[d];
    out.set(x.subarray(off, off + run), o);
    o += run;
    for (let d = inner - 1; d >= 0; d--) {
      if (++idx[d] < size[d]) break;
      idx[d] = 0;
    }
  }
}

/** Swaps the wasm kernel `name` for one built around the stock kernel function. */
function override(name: string, make: (stock: KernelFunc) => KernelFunc): void {
  const config = tf.getKernel(name, 'wasm');
  if (!config) throw new Error(`tfjs-backend-wasm registers no ${name} kernel`);
  const stock = config.kernelFunc as unknown as KernelFunc;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...config, kernelFunc: make(stock) as unknown as tf.KernelFunc });
}
