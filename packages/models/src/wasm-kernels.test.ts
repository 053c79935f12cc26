import { describe, expect, it } from 'vitest';
import { initBackend, tf } from './index.js';
import { lcg, maxRelErr } from './test_util.js';

/** Runs f on the cpu backend and on wasm with `threads`; returns both outputs as arrays. */
async function onBoth(f: () => tf.Tensor, threads = 1): Promise<[Float32Array, Float32Array, number[], number[]]> {
  await initBackend({ backend: 'cpu' });
  const r = f();
  const ref = r.dataSync() as Float32Array, refShape = r.shape;
  await initBackend({ backend: 'wasm', threads });
  const g = f();
  const got = g.dataSync() as Float32Array, gotShape = g.shape;
  await initBackend({ backend: 'cpu' });
  return [got, ref, gotShape, refShape];
}

describe('wasm Slice (reads only the slice)', () => {
  it('equals the cpu backend exactly for inner, outer, strided and whole-axis boxes, float and int', async () => {
    const x = () => tf.tensor4d(lcg(9, 3 * 4 * 5 * 6), [3, 4, 5, 6]);
    const cases: [number[], number[]][] = [
      [[1, 0, 0, 0], [1, -1, -1, -1]], // one image: a contiguous run
      [[0, 1, 2, 3], [3, 2, 3, 2]], // a box in every axis
      [[2, 3, 4, 5], [1, 1, 1, 1]], // one element
      [[0, 0, 1, 0], [-1, -1, 2, -1]], // middle axis, trailing whole
    ];
    for (const [begin, size] of cases) {
      const [got, ref, gs, rs] = await onBoth(() => tf.slice(x(), begin, size));
      expect(gs).toEqual(rs);
      expect(Array.from(got)).toEqual(Array.from(ref));
    }
    const [got, ref] = await onBoth(() => tf.slice(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), [0, 1], [2, 2]));
    expect(Array.from(got)).toEqual([2, 3, 5, 6]);
    expect(Array.from(ref)).toEqual([2, 3, 5, 6]);
  });
});

describe('wasm BatchMatMul (our SIMD GEMM, or one XNNPACK GEMM per batch entry)', () => {
  it('matches the cpu backend within 1e-5 for odd shapes, at 1 and 2 threads, and keeps transposed products right', async () => {
    const a = () => tf.tensor3d(lcg(1, 3 * 5 * 7), [3, 5, 7]), b = () => tf.tensor3d(lcg(2, 3 * 7 * 2), [3, 7, 2]);
    const [got, ref, gs, rs] = await onBoth(() => tf.matMul(a(), b()));
    expect(gs).toEqual([3, 5, 2]);
    expect(rs).toEqual([3, 5, 2]);
    expect(maxRelErr(got, ref)).toBeLessThan(1e-5);
    // Our GEMM, b in place and b packed in blocks (300 x 300 is over one 256 x 256 block); at 2 threads
    // entries from 2^20 multiply-adds on (128 x 128 x 64) take one XNNPACK call each.
    for (const [M, K, N, threads] of [[9, 300, 300, 1], [128, 128, 64, 2], [5, 7, 2, 2], [2, 300, 300, 2]]) {
      const [g2, r2] = await onBoth(() => tf.matMul(tf.tensor3d(lcg(5, 2 * M * K), [2, M, K]), tf.tensor3d(lcg(6, 2 * K * N), [2, K, N])), threads);
      expect(maxRelErr(g2, r2), `${M}x${K}x${N} at ${threads}`).toBeLessThan(1e-5);
    }
    // Plain 2-D products on ours (rows and columns off the 4 x 8 tiles; b in blocks), and on XNNPACK's pool at 2 threads.
    for (const [M, K, N, threads] of [[13, 9, 21, 1], [1, 64, 3, 1], [3, 300, 300, 1], [300, 64, 300, 2]]) {
      const [g2, r2] = await onBoth(() => tf.matMul(tf.tensor2d(lcg(7, M * K), [M, K]), tf.tensor2d(lcg(8, K * N), [K, N])), threads);
      expect(maxRelErr(g2, r2), `${M}x${K}x${N} at ${threads}`).toBeLessThan(1e-5);
    }
    // Transposed operands take the stock kernel; a broadcast batch of 1 too.
    const [gt, rt] = await onBoth(() => tf.matMul(a(), tf.tensor3d(lcg(3, 3 * 4 * 7), [3, 4, 7]), false, true));
    expect(maxRelErr(gt, rt)).toBeLessThan(1e-5);
    const [gb, rb] = await onBoth(() => tf.matMul(a(), tf.tensor3d(lcg(4, 7 * 2), [1, 7, 2])));
    expect(maxRelErr(gb, rb)).toBeLessThan(1e-5);
    // A hand-computed product: [[1,2],[3,4]] x [[5],[6]] = [[17],[39]]; second entry x2 on both sides = x4.
    const [gh] = await onBoth(() => tf.matMul(tf.tensor3d([1, 2, 3, 4, 2, 4, 6, 8], [2, 2, 2]), tf.tensor3d([5, 6, 10, 12], [2, 2, 1])));
    expect(Array.from(gh)).toEqual([17, 39, 68, 156]);
  });
});

describe('wasm _FusedMatMul (matMul + bias on our SIMD GEMM)', () => {
  it('matches the cpu backend within 1e-5 with and without a bias; activations keep the stock kernel', async () => {
    const x = () => tf.tensor2d(lcg(11, 17 * 24), [17, 24]), w = () => tf.tensor2d(lcg(12, 24 * 13), [24, 13]), bias = () => tf.tensor1d(lcg(13, 13));
    const cases: [string, () => tf.Tensor][] = [
      ['bias', () => tf.fused.matMul({ a: x(), b: w(), bias: bias() })],
      ['no bias', () => tf.fused.matMul({ a: x(), b: w() })],
      ['relu', () => tf.fused.matMul({ a: x(), b: w(), bias: bias(), activation: 'relu' })],
      ['large weight (packed blocks, bias on the first k-block only)', () => tf.fused.matMul({ a: tf.tensor2d(lcg(14, 3 * 300), [3, 300]), b: tf.tensor2d(lcg(15, 300 * 300), [300, 300]), bias: tf.tensor1d(lcg(16, 300)) })],
    ];
    for (const [name, f] of cases) {
      const [got, ref, gs, rs] = await onBoth(f);
      expect(gs, name).toEqual(rs);
      expect(maxRelErr(got, ref), name).toBeLessThan(1e-5);
    }
    // By hand: [[1, 2]] x [[3, 4], [5, 6]] + [10, 20] = [[23, 36]].
    const [gh] = await onBoth(() => tf.fused.matMul({ a: tf.tensor2d([1, 2], [1, 2]), b: tf.tensor2d([3, 4, 5, 6], [2, 2]), bias: tf.tensor1d([10, 20]) }));
    expect(Array.from(gh)).toEqual([23, 36]);
  });
});

describe('wasm Identity (shares memory)', () => {
  it('a clone shares the data, outlives its source with the same values, and frees it with the last reference', async () => {
    await initBackend({ backend: 'wasm' });
    const backend = tf.engine().backend;
    const before = backend.numDataIds();
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = tf.clone(x);
    expect(backend.numDataIds()).toBe(before + 1); // the stock kernel copied: + 2
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    y.dispose();
    expect(backend.numDataIds()).toBe(before);
    const s = tf.tensor1d(['a', 'b'], 'string');
    expect(tf.clone(s).dataSync()).toEqual(['a', 'b']);
    await initBackend({ backend: 'cpu' });
  });
});
