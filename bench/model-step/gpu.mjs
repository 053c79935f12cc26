// Entry for the GPU machine (bundled by ../shared/tools/gpu-kit/prepare.sh): the model-step training
// step on tfjs-webgpu, timed, plus a kernel profile of one step. Writes $OUT/model-step-webgpu.json.
// Run beside the PyTorch twin in one command:
//   bash .gpu-kit/run.sh --batch 64 && python3 bench/model-step/torch_step.py --device cuda --batch 64 --steps 10 --warmup 2 --out $OUT/model-step-torch.json
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dispatchCacheStats, initBackend, lwMatMul, setDispatchCacheEnabled, setSavedTensorsFast, setFusedAttentionEnabled, setMatMulTiling, setLwMatMulEnabled, tf } from '@lw/models';
import { buildStep, timeSteps } from './step.mjs';
import { startCpuProfile } from '../cpu-profile.mjs';

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
  if (process.argv.includes('--native')) await nativeCosts();
  if (process.argv.includes('--matmul')) await matmulRates();
  // --bk 8|16|32: our matMul's K-slice (default: the library's); --tfjs-matmul: tf.matMul everywhere (the before).
  if (arg('bk')) setMatMulTiling({ bk: Number(arg('bk')) });
  setLwMatMulEnabled(!process.argv.includes('--tfjs-matmul'));
  // --no-dispatch-cache: tfjs' own uniform buffers and bind groups at every dispatch (webgpu/dispatch-cache.ts).
  setDispatchCacheEnabled(!process.argv.includes('--no-dispatch-cache'));
  // --fused: the fused attention kernels (forward, dq, dk/dv) instead of the composed ops.
  setFusedAttentionEnabled(process.argv.includes('--fused'));
  const batch = Number(arg('batch', 64));
  // --optimizer host|fused|device (step.mjs); --lag: the loss read one step late.
  const { step, settle } = buildStep({ batch, micro: Number(arg('micro', batch)), optimizer: arg('optimizer', 'host'), lag: process.argv.includes('--lag') });
  // --ab: tf.matMul, ours on plain-shaped products only (K, N multiples of 4), and ours everywhere, in turns
  // in this one process (run-to-run noise on the device is ~30%).
  if (process.argv.includes('--ab')) {
    const configs = [['tf.matMul', false, false], ['LwMatMul vec4 only', true, false], ['LwMatMul', true, true]];
    for (let i = 0; i < 2; i++) await step();
    for (let round = 0; round < 3; round++) {
      for (const [name, on, ragged] of configs) {
        setLwMatMulEnabled(on);
        setMatMulTiling({ bk: Number(arg('bk', 16)), ragged });
        const t = await timeSteps(step, { warmup: 1, steps: 4 });
        console.log(`ab round ${round}: ${name.padEnd(18)} ${t.seconds.toFixed(4)} s/step, host CPU ${t.cpuSeconds.toFixed(4)} s/step, loss ${t.loss}`);
      }
    }
    setLwMatMulEnabled(!process.argv.includes('--tfjs-matmul'));
    setMatMulTiling({ bk: Number(arg('bk', 16)) });
  }
  // --ab-fused: composed attention and the fused kernels in turns, in this one process.
  if (process.argv.includes('--ab-fused')) {
    for (let i = 0; i < 2; i++) await step();
    for (let round = 0; round < 3; round++) {
      for (const on of [false, true]) {
        setFusedAttentionEnabled(on);
        if (round === 0) for (let i = 0; i < 2; i++) await step(); // compile the other variant's shaders first
        const t = await timeSteps(step, { warmup: 1, steps: 4 });
        console.log(`ab-fused round ${round}: ${(on ? 'fused attention' : 'composed attention').padEnd(18)} ${t.seconds.toFixed(4)} s/step, host CPU ${t.cpuSeconds.toFixed(4)} s/step, loss ${t.loss}`);
      }
    }
    setFusedAttentionEnabled(process.argv.includes('--fused'));
  }
  if (process.argv.includes('--pipeline')) await pipelineRounds(batch);
  // --cpu-prof: a V8 CPU profile of the timed steps (the host side of dispatch), written to $OUT.
  // Warm-up first (shader compilation, buffer pool), so the profile shows the steady state.
  for (let i = 0; i < Number(arg('warmup', 2)); i++) await step();
  const profiler = process.argv.includes('--cpu-prof') ? await startCpuProfile() : null;
  const timing = await timeSteps(step, { warmup: 0, steps: Number(arg('steps', 10)), settle });
  if (profiler) await profiler.stop(join(process.env.OUT ?? '.', `model-step-webgpu${arg('tag', '')}.cpuprofile`));
  console.log(`tfjs ${info.name} ${info.adapter ?? ''} ${JSON.stringify(flags)}: ${timing.seconds.toFixed(4)} s/step, loss ${timing.loss}`);
  console.log(`dispatch cache: ${JSON.stringify(dispatchCacheStats())}`);
  const prof = await tf.profile(async () => { await step(); await settle(); });
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
 * --pipeline: how much of the step is host time the device waits on. Optimizers on host (gradients read
 * back each step, as @lw/train runs) and on the device (LwAdamW, one kernel per weight; tfjs ops), each
 * with the loss read at once or one step late (the host records step n+1 while the device runs step n),
 * in turns in this one process. `enqueue` is the JavaScript that records a step's kernels.
 */
async function pipelineRounds(batch) {
  // --variants host,fused,fused+lag,device+lag (+attn: the fused attention kernels for that variant;
  // +nocache: tfjs' own uniform buffers and bind groups at every dispatch, webgpu/dispatch-cache.ts off;
  // +k512, +k1024: K-splits at least 512 or 1024 long; 1024 was the default before 2026-12-04;
  // +clone: tfjs' own Engine.clone for saved tensors, webgpu/saved-tensors.ts off)
  const specs = (arg('variants', 'host,fused,fused+lag,device+lag')).split(',');
  const built = specs.map((spec) => {
    const [optimizer, ...opts] = spec.split('+');
    return { name: spec, attn: opts.includes('attn'), cache: !opts.includes('nocache'), fastSave: !opts.includes('clone'), splitK: opts.includes('k1024') ? 1024 : opts.includes('k512') ? 512 : 256, ...buildStep({ batch, optimizer, lag: opts.includes('lag') }) };
  });
  const steps = Number(arg('round-steps', 5));
  const use = (b) => { setFusedAttentionEnabled(b.attn); setDispatchCacheEnabled(b.cache); setSavedTensorsFast(b.fastSave); setMatMulTiling({ bk: 16, splitK: b.splitK }); };
  for (const b of built) { use(b); for (let i = 0; i < 2; i++) await b.step(); await b.settle(); }
  for (let round = 0; round < 3; round++) {
    for (const b of built) {
      use(b);
      let enqueue = 0;
      const counted = async () => { const l = await b.step(); enqueue += b.enqueueMs(); return l; };
      const t = await timeSteps(counted, { warmup: 1, steps, settle: b.settle });
      console.log(`pipeline round ${round}: ${b.name.padEnd(24)} ${t.seconds.toFixed(4)} s/step, enqueue ${(enqueue / (steps + 1)).toFixed(1)} ms/step, host CPU ${t.cpuSeconds.toFixed(4)} s/step, loss ${t.loss}`);
    }
  }
  setFusedAttentionEnabled(process.argv.includes('--fused'));
  setDispatchCacheEnabled(!process.argv.includes('--no-dispatch-cache'));
  setSavedTensorsFast(true);
  setMatMulTiling({ bk: Number(arg('bk', 16)) });
  for (const b of built) b.dispose();
}

/**
 * --native: host microseconds per call of what tfjs-webgpu does for every dispatch (Dawn through
 * dawn.node: bind group layout, bind group, uniform write, pass commands, submit), and per tfjs op
 * (an engine-only Reshape; an Add of 256 floats, which dispatches), each over n calls.
 */
async function nativeCosts() {
  const backend = tf.backend(), device = backend.device, n = 3000;
  const module = device.createShaderModule({ code: '@group(0) @binding(0) var<storage, read_write> o : array<f32>; @group(0) @binding(1) var<uniform> u : vec4<f32>; @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g : vec3<u32>) { if (g.x < 64u) { o[g.x] = u.x; } }' });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const buf = device.createBuffer({ size: 256, usage: 0x80 | 0x8 }); // STORAGE | COPY_DST
  const ubuf = device.createBuffer({ size: 16, usage: 0x40 | 0x8 }); // UNIFORM | COPY_DST
  const layout = pipeline.getBindGroupLayout(0), data = new Float32Array(4);
  const time = (name, f) => {
    for (let i = 0; i < 200; i++) f(i);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) f(i);
    console.log(`native: ${name.padEnd(44)} ${((performance.now() - t0) * 1000 / n).toFixed(2)} us`);
  };
  time('getBindGroupLayout(0)', () => pipeline.getBindGroupLayout(0));
  const entries = [{ binding: 0, resource: { buffer: buf } }, { binding: 1, resource: { buffer: ubuf, offset: 0, size: 16 } }];
  time('createBindGroup (2 buffers)', () => device.createBindGroup({ layout, entries }));
  time('queue.writeBuffer (16 bytes)', () => device.queue.writeBuffer(ubuf, 0, data, 0, 4));
  const group = device.createBindGroup({ layout, entries });
  let enc = device.createCommandEncoder(), pass = enc.beginComputePass();
  time('setPipeline + setBindGroup + dispatch', () => { pass.setPipeline(pipeline); pass.setBindGroup(0, group); pass.dispatchWorkgroups(1, 1, 1); });
  pass.end(); device.queue.submit([enc.finish()]);
  time('encoder + pass + 1 dispatch + finish + submit', () => {
    const e = device.createCommandEncoder(), p = e.beginComputePass();
    p.setPipeline(pipeline); p.setBindGroup(0, group); p.dispatchWorkgroups(1, 1, 1); p.end();
    device.queue.submit([e.finish()]);
  });
  time('createBuffer 256 B + destroy', () => device.createBuffer({ size: 256, usage: 0x80 }).destroy());
  await device.queue.onSubmittedWorkDone();
  const x = tf.ones([256]);
  time('tf.reshape (engine only)', () => tf.reshape(x, [16, 16]).dispose());
  time('tf.add, 256 floats (one dispatch)', () => tf.add(x, x).dispose());
  await tf.add(x, 0).data();
  x.dispose();
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

/**
 * TFLOP/s of the step's products: tf.matMul vs ours at each K-slice, after a warm-up. The large 2-D
 * ones (linear layers and their gradients) and attention's batched ones (257-long sides: scalar loads).
 */
async function matmulRates() {
  const shapes = [[1, 16448, 1024, 4096], [1, 16448, 4096, 1024], [1, 16448, 1024, 1024], [1, 1024, 16448, 1024],
    [1024, 257, 64, 257], [1024, 257, 257, 64], [1024, 64, 257, 257]];
  for (const [G, M, K, N] of shapes) {
    const a = tf.randomNormal([G, M, K]), b = tf.randomNormal([G, K, N]);
    // 20 products queued back to back, then a one-float read (the queue runs in order): no 270 MB read-back.
    const time = async (f) => {
      const probe = tf.slice(a, [0, 0, 0], [1, 1, 1]);
      for (let round = 0; round < 2; round++) {
        const t0 = performance.now();
        for (let i = 0; i < 20; i++) f().dispose();
        await tf.add(probe, 0).data();
        if (round === 1) { probe.dispose(); return (performance.now() - t0) / 20; }
      }
    };
    const rate = (ms) => `${ms.toFixed(2)} ms (${(2 * G * M * K * N / ms / 1e9).toFixed(1)} TFLOP/s)`;
    const row = [`tf.matMul ${rate(await time(() => tf.matMul(a, b)))}`];
    for (const bk of [8, 16, 32]) {
      setMatMulTiling({ bk });
      row.push(`ours bk${bk} ${rate(await time(() => lwMatMul(a, b)))}`);
    }
    setMatMulTiling({ bk: 16 });
    console.log(`matmul [${G},${M},${K}]x[${G},${K},${N}]: ${row.join(', ')}`);
    a.dispose(); b.dispose();
  }
}

main().then((code) => process.exit(code), (e) => { console.error(e); process.exit(1); });
