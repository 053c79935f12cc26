#!/usr/bin/env node
// bench/model-step/gemm: tf.matMul on the wasm backend (1 thread) with our GEMM (packages/models/src/wasm-gemm.ts)
// against tfjs-wasm's stock kernels (XNNPACK; LW_WASM_STOCK_KERNELS=1), each in its own process, same shapes:
// the default study's products, attention's batched ones and ViT-L/14's. Prints GFLOP/s side by side.
//   npx tsc -b packages/models && node bench/model-step/gemm.mjs
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const shapes = [
  [1, 272, 64, 64], [1, 272, 64, 256], [1, 272, 256, 64], [1, 528, 64, 256], // toy CLIP-HBA linears
  [32, 17, 17, 32], [132, 8, 8, 32], [16, 64, 64, 64], [8, 257, 64, 257], // attention, batched
  [1, 1024, 1024, 1024], [1, 4112, 1024, 1024], [1, 4112, 1024, 4096], [1, 4112, 4096, 1024], // ViT-L/14
];

if (process.argv[2] === '--child') {
  const { initBackend, tf } = await import('@lw/models');
  await initBackend({ backend: 'wasm', threads: 1 });
  const out = [];
  for (const [G, M, K, N] of shapes) {
    const a = tf.randomNormal(G === 1 ? [M, K] : [G, M, K]), b = tf.randomNormal(G === 1 ? [K, N] : [G, K, N]);
    const flop = 2 * G * M * K * N, reps = Math.max(3, Math.round(3e9 / flop));
    for (let i = 0; i < 2; i++) tf.matMul(a, b).dispose();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) tf.matMul(a, b).dispose();
    out.push(flop * reps / ((performance.now() - t0) / 1000) / 1e9);
    tf.dispose([a, b]);
  }
  console.log(JSON.stringify(out));
  process.exit(0);
}

const run = (env) => JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child'], { env: { ...process.env, ...env }, encoding: 'utf8' }).trim().split('\n').pop());
const stock = run({ LW_WASM_STOCK_KERNELS: '1' }), ours = run({});
console.log(`${'[G,] M x K x N'.padEnd(22)} ${'XNNPACK GFLOP/s'.padStart(16)} ${'ours GFLOP/s'.padStart(13)} ${'ours / XNNPACK'.padStart(15)}`);
shapes.forEach(([G, M, K, N], i) => {
  const name = `${G > 1 ? `${G}, ` : ''}${M} x ${K} x ${N}`;
  console.log(`${name.padEnd(22)} ${stock[i].toFixed(1).padStart(16)} ${ours[i].toFixed(1).padStart(13)} ${(ours[i] / stock[i]).toFixed(2).padStart(14)}x`);
});
