// Kernel profile of one tfjs training step (bench/model-step/step.mjs): time per kernel name, largest first.
//   node bench/model-step/profile.mjs [--backend wasm] [--threads N] [--batch 8]
import { initBackend, tf } from '@lw/models';
import { buildStep } from './step.mjs';

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
const threads = arg('threads') === undefined ? undefined : Number(arg('threads'));
const info = await initBackend({ backend: arg('backend', 'wasm'), threads });
const batch = Number(arg('batch', 8));
const { step } = buildStep({ batch });
await step(); // warm-up
const prof = await tf.profile(() => step());
const byKernel = new Map();
let total = 0;
// customGrad wrappers appear as 'forward' around the kernels they run: skip them, or time counts twice.
for (const k of prof.kernels.filter((k) => k.name !== 'forward')) {
  const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
  const e = byKernel.get(key) ?? { ms: 0, calls: 0 };
  e.ms += ms; e.calls++; byKernel.set(key, e);
  total += ms;
}
const rows = [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25);
console.log(`backend ${info.name} (${info.threads ?? '?'} threads), batch ${batch}: ${prof.kernels.length} kernels, ${total.toFixed(0)} ms kernel time`);
for (const [key, e] of rows) console.log(`${e.ms.toFixed(0).padStart(8)} ms ${(100 * e.ms / total).toFixed(1).padStart(5)}% ${String(e.calls).padStart(4)}x  ${key}`);
process.exit(0);
