import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { assembleBatchedGemm, batchedGemm, batchedGemmUsesFma, gemmOn, type GemmKernel, packB, prepareBatchedGemm } from './wasm-gemm.js';
import { lcg } from './test_util.js';

// The SIMD kernel against a float64 triple loop, on memories of both kinds; shapes with odd N add a bias.
describe('batchedGemm (SIMD128 batched product on a wasm memory)', () => {
  // The last three have b over one 256 x 256 block: packed blocks, k-blocks accumulating, ragged edges.
  const shapes = [[1, 1, 1, 1], [3, 5, 7, 9], [2, 17, 17, 32], [4, 17, 32, 17], [3, 8, 32, 8], [5, 1, 32, 8], [2, 4, 3, 12], [1, 9, 1, 13], [2, 6, 300, 523], [1, 9, 700, 260], [1, 5, 257, 1031]];
  it('is prepared once per process, one instance per memory, with FMA where the engine has relaxed SIMD', async () => {
    await prepareBatchedGemm();
    const memory = new WebAssembly.Memory({ initial: 1 });
    const scratch = () => 0;
    expect(batchedGemm(memory, scratch)).toBe(batchedGemm(memory, scratch));
    // Node 20 gets relaxed SIMD from the flag prepareBatchedGemm sets; LW_WASM_FMA=0 turns it off.
    expect(batchedGemmUsesFma()).toBe(process.env.LW_WASM_FMA !== '0');
  });
  for (const [shared, fma] of [[false, false], [true, false], [false, true], [true, true]]) {
    it(`equals the float64 product for ${shapes.length} shapes (${shared ? 'shared' : 'plain'} memory, ${fma ? 'relaxed_madd' : 'mul + add'})`, async () => {
      await prepareBatchedGemm();
      const memory = new WebAssembly.Memory(shared ? { initial: 64, maximum: 65536, shared: true } : { initial: 64 });
      // The relaxed variant needs the engine's relaxed SIMD even where LW_WASM_FMA=0 left it off (Node 20).
      if (fma) setFlagsFromString('--experimental-wasm-relaxed-simd');
      const module = new WebAssembly.Module(await assembleBatchedGemm(shared, fma));
      // Scratch for packed blocks at the top of the 64 pages; operands sit below it.
      const scratch = 64 * 65536 - 4 * 256 * 256;
      let asked = 0;
      const bmm = gemmOn(new WebAssembly.Instance(module, { env: { memory } }).exports.bmm as GemmKernel, memory, () => (asked++, scratch));
      for (const [G, M, K, N] of shapes) {
        const a = Float32Array.from(lcg(G * M * K + 1, G * M * K)), b = Float32Array.from(lcg(K * N + 2, G * K * N));
        const heap = new Float32Array(memory.buffer);
        const oa = 16, ob = oa + a.length + 3, oc = ob + b.length + 5; // odd float offsets: no alignment assumed
        heap.set(a, oa);
        heap.set(b, ob);
        const withBias = N % 2 === 1, bias = Float32Array.from(lcg(N + 3, N)), obias = oc + G * M * N + 7;
        heap.set(bias, obias);
        heap.fill(Number.NaN, oc, oc + G * M * N + 1);
        bmm(4 * oa, 4 * ob, 4 * oc, G, M, K, N, withBias ? 4 * obias : 0);
        let worst = 0;
        for (let g = 0; g < G; g++) for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
          let s = withBias ? bias[j] : 0, scale = Math.abs(s);
          for (let k = 0; k < K; k++) {
            const t = a[g * M * K + i * K + k] * b[g * K * N + k * N + j];
            s += t;
            scale += Math.abs(t);
          }
          // float32 error of K products summed onto the start value: at most (K + 1) * eps * sum |terms|
          worst = Math.max(worst, Math.abs(heap[oc + g * M * N + i * N + j] - s) / ((K + 1) * 2 ** -24 * scale));
        }
        expect(worst, `${G}x${M}x${K}x${N}`).toBeLessThan(1);
        expect(Number.isNaN(heap[oc + G * M * N]), 'wrote past the end').toBe(true);
      }
      expect(asked, 'scratch is asked for once').toBe(1);
    });
  }
});

describe('packB (b in the kernel\'s column groups)', () => {
  it('stores 8-, 4- and 1-column groups, each [K, width] contiguous from its first column times K', () => {
    // b [2, 14] (values 100k + j), row stride 16: groups at columns 0-7, 8-11, 12, 13.
    const K = 2, N = 14, ld = 16, heap = new Float32Array(64 + K * N);
    for (let k = 0; k < K; k++) for (let j = 0; j < ld; j++) heap[k * ld + j] = 100 * k + j;
    packB(heap, 0, ld, K, N, 64);
    const out = Array.from(heap.subarray(64));
    const group = (j0: number, w: number) => [0, 1].flatMap((k) => Array.from({ length: w }, (_, t) => 100 * k + j0 + t));
    expect(out).toEqual([...group(0, 8), ...group(8, 4), ...group(12, 1), ...group(13, 1)]);
  });
});

