/**
 * Three tfjs-backend-wasm 4.22 kernels replaced with faster ones that compute the same values.
 *
 * BatchMatMul: the stock kernel sends only a single [1, M, K] x [1, K, N] product without transposes
 * to XNNPACK (SIMD GEMM, on the thread pool); every batched product, such as attention's
 * [B*H, T, hd] x [B*H, hd, T], runs a scalar triple loop on one thread (~1.5 GFLOP/s against
 * XNNPACK's ~13 per thread). Here a batched product with equal batch sizes and no transposes runs as
 * one XNNPACK GEMM per batch entry, on [1, M, K] / [1, K, N] / [1, M, N] tensors registered over the
 * entries' own memory (no copies). Anything else goes to the stock kernel, and so do small entries
 * (< 2^20 multiply-adds, e.g. [65, 16] x [16, 65]) when XNNPACK has more than one thread.
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

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use (not in its public typings). */
interface WasmBackend {
  incRef(dataId: object): void;
  wasm: {
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
/** Multiply-adds per batch entry below which a multi-threaded backend keeps the stock batched loop. */
const MIN_POOLED_MACS = 1 << 20;

/** Replaces the wasm BatchMatMul, Slice and Identity kernels (once per process; they apply to every later wasm backend). */
export function installWasmKernels(): void {
  if (installed) return;
  installed = true;
  override('BatchMatMul', (stock) => {
    // The C entry point the stock kernel wraps (tfjs-backend-wasm src/cc/kernels/BatchMatMul.cc).
    let cBatchMatMul: ((...a: unknown[]) => void) | null = null;
    let cFor: WasmBackend | null = null;
    let threads = 1;
    return (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA: boolean; transposeB: boolean };
      const backend = args.backend as WasmBackend;
      const G = a.shape.length === 3 ? a.shape[0] : 1;
      if (transposeA || transposeB || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length !== 3 || b.shape.length !== 3 || b.shape[0] !== G || G < 2) {
        return stock(args);
      }
      if (cFor !== backend) {
        cBatchMatMul = backend.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']);
        threads = backend.wasm.tfjs.getThreadsCount();
        cFor = backend;
      }
      const [, M, K] = a.shape, N = b.shape[2];
      // Every GEMM wakes XNNPACK's thread pool; for small products that hand-off costs more than the
      // product (a width-64 ViT block took 7x the CPU at 2 threads), so they stay on the stock loop.
      if (threads > 1 && M * K * N < MIN_POOLED_MACS) return stock(args);
      const out = backend.makeOutput([G, M, N], 'float32'); // [G, M, N]
      const base = { a: backend.dataIdMap.get(a.dataId).memoryOffset, b: backend.dataIdMap.get(b.dataId).memoryOffset, out: backend.dataIdMap.get(out.dataId).memoryOffset };
      const shapeBytes = (s: number[]) => new Uint8Array(new Int32Array(s).buffer);
      const aShape = shapeBytes([1, M, K]), bShape = shapeBytes([1, K, N]);
      for (let g = 0; g < G; g++) {
        const ag = alias(backend, base.a + 4 * g * M * K, M * K), bg = alias(backend, base.b + 4 * g * K * N, K * N), og = alias(backend, base.out + 4 * g * M * N, M * N);
        // No transposes, batch 1 on both sides, linear activation, no bias, no prelu: XNNPACK's path.
        cBatchMatMul!(ag, aShape, 3, bg, bShape, 3, false, false, og);
        for (const id of [ag, bg, og]) backend.wasm.tfjs.disposeData(id);
      }
      return out;
    };
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
