import { initBackend, tf } from '@lw/models';
import { batchedGemm } from '@lw/models/wasm-gemm';
await initBackend({ backend: 'wasm' });
const backend = tf.backend();
const mem = backend.wasm.wasmMemory ?? backend.wasm.asm.memory;
const bmm = batchedGemm(mem);
const shapes = [[272,64,64],[272,64,256],[272,256,64],[528,64,256],[1024,1024,1024],[4112,1024,1024],[4112,1024,4096],[4112,4096,1024]];
for (const [M,K,N] of shapes) {
  const a = tf.randomNormal([M,K]), b = tf.randomNormal([K,N]);
  const reps = Math.max(2, Math.round(2e9 / (2*M*K*N)));
  const time = (f) => { for (let i=0;i<2;i++) f(); const t0=performance.now(); for (let i=0;i<reps;i++) f(); return (performance.now()-t0)/reps; };
  const tx = time(() => tf.matMul(a,b).dispose());
  const out = tf.zeros([M,N]);
  const off = (t) => backend.dataIdMap.get(t.dataId).memoryOffset;
  const to = time(() => bmm(off(a), off(b), off(out), 1, M, K, N));
  const ref = tf.matMul(a,b);
  const err = tf.max(tf.abs(tf.sub(ref, out))).dataSync()[0];
  const g = (ms) => (2*M*K*N/ms/1e6).toFixed(1);
  console.log(`${M}x${K}x${N}: xnnpack ${tx.toFixed(2)} ms (${g(tx)} GFLOP/s), ours ${to.toFixed(2)} ms (${g(to)} GFLOP/s), max diff ${err.toExponential(1)}`);
}
