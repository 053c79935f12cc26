// The attention matMuls of one micro-batch of 8 images (ViT-L/14: 16 heads, 257 tokens, head dim 64,
// so 128 groups) and one linear layer's GEMM, on wasm: wall and process-CPU ms per call, and GFLOP/s
// of CPU time. With packages/models/src/wasm-kernels.ts the batched products run one XNNPACK GEMM per
// group; tfjs-backend-wasm's stock kernel ran them as a scalar loop on one thread.
//   node bench/model-step/attention-ops.mjs [--threads 1] [--groups 128] [--reps 3]
import { initBackend, tf } from '@lw/models';

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
const threads = Number(arg('threads', 1)), G = Number(arg('groups', 128)), reps = Number(arg('reps', 3));
const info = await initBackend({ backend: 'wasm', threads });
const T = 257, hd = 64;
const q = tf.randomNormal([G, T, hd]), kT = tf.randomNormal([G, hd, T]), p = tf.randomNormal([G, T, T]), v = tf.randomNormal([G, T, hd]);
const x = tf.randomNormal([8 * T, 1024]), w = tf.randomNormal([1024, 1024]);

async function time(name, flops, f) {
  tf.dispose(f()); // warm-up (XNNPACK operator creation)
  const t0 = performance.now(), c0 = process.cpuUsage();
  for (let i = 0; i < reps; i++) {
    const out = f();
    await out.data();
    out.dispose();
  }
  const c = process.cpuUsage(c0);
  const ms = (performance.now() - t0) / reps, cpuMs = (c.user + c.system) / 1000 / reps;
  console.log(`${name.padEnd(40)} ${ms.toFixed(1).padStart(8)} ms wall ${cpuMs.toFixed(1).padStart(8)} ms cpu ${(flops / cpuMs / 1e6).toFixed(1).padStart(6)} GFLOP/s of cpu`);
}

console.log(`wasm, ${info.threads} thread(s)`);
await time(`[${G},${T},${hd}]x[${G},${hd},${T}]`, 2 * G * T * hd * T, () => tf.matMul(q, kT));
await time(`[${G},${T},${T}]x[${G},${T},${hd}]`, 2 * G * T * T * hd, () => tf.matMul(p, v));
await time(`[${8 * T},1024]x[1024,1024]`, 2 * 8 * T * 1024 * 1024, () => tf.matMul(x, w));
process.exit(0);
