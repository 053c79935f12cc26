// Entry for the GPU machine (bundled by ../shared/tools/gpu-kit/prepare.sh): the model-step training
// step on tfjs-webgpu, timed, plus a kernel profile of one step. Writes $OUT/model-step-webgpu.json.
// Run beside the PyTorch twin in one command:
//   bash .gpu-kit/run.sh --batch 64 && python3 bench/model-step/torch_step.py --device cuda --batch 64 --steps 10 --warmup 2 --out $OUT/model-step-torch.json
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, lwMatMul, setMatMulTiling, setLwMatMulEnabled, tf } from '@lw/models';
import { buildStep, timeSteps } from './step.mjs';

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };

async function main() {
  const info = await initBackend({ backend: arg('backend', 'webgpu') });
  // --flags WEBGPU_CPU_FORWARD=false,WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=64: tfjs env flags to compare.
  const flags = Object.fromEntries((arg('flags', '') || '').split(',').filter(Boolean).map((kv) => {
    const [k, v] = kv.split('=');
    return [k, v === 'true' ? true : v === 'false' ? false : Number(v)];
  }));
  for (const [k, v] of Object.entries(flags)) tf.env().set(k, v);
  if (process.argv.includes('--overhead')) await dispatchOverhead();
  if (process.argv.includes('--matmul')) await matmulRates();
  // --bk 8|16: our matMul's K-slice; --tfjs-matmul: tf.matMul everywhere (the before).
  setMatMulTiling({ bk: Number(arg('bk', 8)) });
  setLwMatMulEnabled(!process.argv.includes('--tfjs-matmul'));
  const batch = Number(arg('batch', 64));
  const { step } = buildStep({ batch, micro: Number(arg('micro', batch)), optimizer: arg('optimizer', 'host') });
  // --ab: our matMul on and off in turns, in this one process (run-to-run noise on the device is ~30%).
  if (process.argv.includes('--ab')) {
    for (let i = 0; i < 2; i++) await step();
    for (let round = 0; round < 3; round++) {
      for (const on of [true, false]) {
        setLwMatMulEnabled(on);
        const t = await timeSteps(step, { warmup: 1, steps: 4 });
        console.log(`ab round ${round}: ${on ? 'LwMatMul ' : 'tf.matMul'} ${t.seconds.toFixed(4)} s/step, host CPU ${t.cpuSeconds.toFixed(4)} s/step`);
      }
    }
    setLwMatMulEnabled(!process.argv.includes('--tfjs-matmul'));
  }
  // --cpu-prof: a V8 CPU profile of the timed steps (the host side of dispatch), written to $OUT.
  // Warm-up first (shader compilation, buffer pool), so the profile shows the steady state.
  for (let i = 0; i < Number(arg('warmup', 2)); i++) await step();
  const profiler = process.argv.includes('--cpu-prof') ? await startCpuProfile() : null;
  const timing = await timeSteps(step, { warmup: 0, steps: Number(arg('steps', 10)) });
  if (profiler) await profiler.stop(join(process.env.OUT ?? '.', `model-step-webgpu${arg('tag', '')}.cpuprofile`));
  console.log(`tfjs ${info.name} ${info.adapter ?? ''} ${JSON.stringify(flags)}: ${timing.seconds.toFixed(4)} s/step, loss ${timing.loss}`);
  const prof = await tf.profile(() => step());
  const byKernel = new Map();
  for (const k of prof.kernels.filter((k) => k.name !== 'forward')) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
    const e = byKernel.get(key) ?? { ms: 0, calls: 0 };
    e.ms += ms; e.calls++; byKernel.set(key, e);
  }
  console.log(`profile: ${prof.kernels.length} kernels, ${[...byKernel.values()].reduce((a, e) => a + e.ms, 0).toFixed(1)} ms kernel time`);
  const kernels = [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30).map(([k, e]) => ({ kernel: k, ms: e.ms, calls: e.calls }));
  for (const k of kernels.slice(0, 15)) console.log(`${k.ms.toFixed(2).padStart(9)} ms ${String(k.calls).padStart(4)}x ${k.kernel}`);
  const res = { backend: info, flags, batch, seconds_per_step: timing.seconds, loss: timing.loss, kernels };
  if (process.env.OUT) writeFileSync(join(process.env.OUT, `model-step-webgpu${arg('tag', '')}.json`), JSON.stringify(res, null, 1));
  return 0;
}

/**
 * Per-kernel cost outside the kernel: a chain of n elementwise adds on tensors of a given size, timed
 * to the final read. Small tensors show the fixed dispatch cost; large ones add allocation and bandwidth.
 */
async function dispatchOverhead() {
  for (const size of [256, 64 * 257 * 64, 64 * 257 * 1024]) {
    for (const round of [0, 1]) {
      const n = 300;
      const a = tf.ones([size]);
      const t0 = performance.now();
      let x = a;
      for (let i = 0; i < n; i++) { const y = tf.add(x, a); if (x !== a) x.dispose(); x = y; }
      await x.data();
      const ms = (performance.now() - t0) / n;
      x.dispose(); a.dispose();
      if (round === 1) console.log(`dispatch: ${n} chained adds of ${size} floats: ${(ms * 1000).toFixed(0)} us per kernel (${(size * 12 / ms / 1e6).toFixed(0)} GB/s)`);
    }
  }
}

/** TFLOP/s of the step's large products: tf.matMul vs ours (both K-slices), best of 5 after a warm-up. */
async function matmulRates() {
  const shapes = [[16448, 1024, 4096], [16448, 4096, 1024], [16448, 1024, 1024], [1024, 16448, 1024]];
  for (const [M, K, N] of shapes) {
    const a = tf.randomNormal([1, M, K]), b = tf.randomNormal([1, K, N]);
    // 5 products queued back to back, then a one-float read (the queue runs in order): no 270 MB read-back.
    const time = async (f) => {
      const probe = tf.slice(a, [0, 0, 0], [1, 1, 1]);
      for (let round = 0; round < 2; round++) {
        const t0 = performance.now();
        for (let i = 0; i < 5; i++) f().dispose();
        await tf.add(probe, 0).data();
        if (round === 1) { probe.dispose(); return (performance.now() - t0) / 5; }
      }
    };
    const flop = 2 * M * K * N;
    const tfjs = await time(() => tf.matMul(a, b));
    setMatMulTiling({ bk: 8 });
    const ours8 = await time(() => lwMatMul(a, b));
    setMatMulTiling({ bk: 16 });
    const ours16 = await time(() => lwMatMul(a, b));
    const rate = (ms) => (flop / ms / 1e9).toFixed(1);
    console.log(`matmul [${M},${K}]x[${K},${N}]: tf.matMul ${tfjs.toFixed(2)} ms (${rate(tfjs)} TFLOP/s), ours bk8 ${ours8.toFixed(2)} ms (${rate(ours8)}), bk16 ${ours16.toFixed(2)} ms (${rate(ours16)})`);
    a.dispose(); b.dispose();
  }
}

async function startCpuProfile() {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  return {
    async stop(path) {
      const { profile } = await post('Profiler.stop');
      writeFileSync(path, JSON.stringify(profile));
      session.disconnect();
      console.log(`cpu profile: ${path}`);
    },
  };
}

main().then((code) => process.exit(code), (e) => { console.error(e); process.exit(1); });
