// One CLIP-HBA training step on the trainable part of ViT-L/14 (method §1, §12), in tfjs:
// vision blocks 22-23 from cached block-22 inputs [B, 257, 1024] + ln_post + proj, text block 11 from
// cached block-11 inputs [66, L, 768] (L = 18 used positions of 77) + ln_final + text_projection, the cosine head, MSE against
// targets, backward, and AdamW (lr 3e-4, betas .9/.999, eps 1e-8, weight decay .01) on the 183,040
// DoRA parameters. Frozen weights are random (no checkpoint needed: the cost does not depend on them).
import { adamwUpdate, Clip, clipSpecs, createClipHba, initParams, modelConfig, tf, usedLength } from '@lw/models';
import { AdamW, DeviceAdamW } from '@lw/train/loops';

// `micro` splits the batch into micro-batches whose gradients are summed before the one AdamW update
// (the same step: loss = mean over the batch). wasm needs it at batch 64: its memory stops at 4 GB.
// Each micro-batch reruns the text block.
// `optimizer`: 'host' is how @lw/train runs (gradients read back, its float32 AdamW on host arrays, the
// new values pushed into the variables: 2 transfers of 183,040 floats a step); 'device' runs AdamW as
// tfjs ops (~14 small kernels per weight tensor); 'fused' is @lw/train's DeviceAdamW, as its behaviour loop runs
// on webgpu (one LwAdamW kernel per weight, no gradient read-back).
// `lag`: step() returns the previous step's loss and leaves this step's read in flight, so the host
// enqueues step n+1 while the device still runs step n (with 'host' every step waits for its gradients anyway).
export function buildStep({ batch = 64, micro = batch, seed = 1, optimizer = 'host', lag = false } = {}) {
  const cfg = modelConfig('clip-vit-l14');
  const needed = (n) => /^visual\.transformer\.resblocks\.2[23]\.|^visual\.(ln_post|proj)|^transformer\.resblocks\.11\.|^ln_final|^text_projection|^logit_scale/.test(n);
  const specs = new Map([...clipSpecs(cfg)].filter(([n]) => needed(n)));
  const clip = new Clip(cfg, initParams(specs, seed, false));
  const ctx = cfg.text.contextLength, P = 66;
  const prompts = new Int32Array(P * ctx);
  for (let p = 0; p < P; p++) {
    const len = 2 + (p % 15); // 2..16 BPE tokens: the SPoSE prompts' range (longest about 16)
    prompts[p * ctx] = 49406;
    for (let j = 1; j <= len; j++) prompts[p * ctx + j] = 1000 + ((p * 31 + j * 17) % 40000);
    prompts[p * ctx + len + 1] = 49407;
  }
  const hba = createClipHba(clip, { visionDoraBlocks: [22, 23], textDoraBlocks: [11], rank: 32, alpha: 16, seed, prompts });
  const vprefix = tf.randomNormal([batch, 257, 1024], 0, 1, 'float32', seed);
  // The text tower runs on the first L = last EOT + 1 positions (exact under the causal mask): L = 18.
  const tprefix = tf.randomNormal([P, usedLength(prompts, ctx), 768], 0, 1, 'float32', seed + 1);
  const targets = tf.randomUniform([batch, P], 0, 100, 'float32', seed + 2);
  const vars = [...hba.trainable.values()];
  const m1 = vars.map((v) => tf.zerosLike(v)), m2 = vars.map((v) => tf.zerosLike(v));
  const lr = 3e-4, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01;
  let t = 0;
  const adamw = new AdamW({ lr, beta1: b1, beta2: b2, eps, weightDecay: wd });
  const hostValues = new Map(); // name -> Float32Array, read from the variables on the first step
  const onDevice = optimizer === 'fused' ? new DeviceAdamW(adamw, hba.trainable) : null;
  onDevice?.upload();

  /** One step; returns the loss (reading it waits for the device). */
  async function step() {
    const t0 = performance.now();
    t++;
    const loss = tf.tidy(() => { // { value, grads } (grads for the host and fused optimisers)
      let value = tf.scalar(0);
      const grads = vars.map((v) => tf.zerosLike(v));
      for (let start = 0; start < batch; start += micro) {
        const n = Math.min(micro, batch - start);
        const r = tf.tidy(() => {
          // One micro-batch: the tensors themselves (a slice would copy [64, 257, 1024] every step).
          const whole = n === batch;
          const vp = whole ? vprefix : tf.slice(vprefix, [start, 0, 0], [n, -1, -1]), tg = whole ? targets : tf.slice(targets, [start, 0], [n, -1]);
          return tf.variableGrads(() => tf.mul(tf.losses.meanSquaredError(tg, hba.predictFromPrefix(vp, tprefix)), n / batch), vars);
        });
        value = tf.add(value, r.value);
        vars.forEach((v, i) => { grads[i] = tf.add(grads[i], r.grads[v.name]); });
      }
      if (optimizer !== 'device') return { value, grads };
      vars.forEach((v, i) => {
        const g = grads[i];
        const a = tf.add(tf.mul(m1[i], b1), tf.mul(g, 1 - b1));
        const b = tf.add(tf.mul(m2[i], b2), tf.mul(tf.square(g), 1 - b2));
        m1[i].dispose(); m2[i].dispose();
        m1[i] = tf.keep(a); m2[i] = tf.keep(b);
        const update = tf.div(tf.div(a, 1 - b1 ** t), tf.add(tf.sqrt(tf.div(b, 1 - b2 ** t)), eps));
        v.assign(tf.sub(tf.mul(v, 1 - lr * wd), tf.mul(update, lr)));
      });
      return { value, grads: [] };
    });
    if (onDevice) {
      onDevice.step(new Map([...hba.trainable.keys()].map((name, i) => [name, loss.grads[i]])));
      tf.dispose(loss.grads);
      loss.grads = [];
    }
    enqueueMs = performance.now() - t0; // the JavaScript that records the step's kernels (the GPU runs behind it)
    if (optimizer === 'host') {
      const params = new Map(), gradients = new Map();
      // every gradient read requested at once, as @lw/train's TrainableParams does
      const read = await Promise.all(loss.grads.map((g) => g.data()));
      for (let i = 0; i < vars.length; i++) {
        if (!hostValues.get(vars[i].name)) hostValues.set(vars[i].name, Float32Array.from(await vars[i].data()));
        params.set(vars[i].name, hostValues.get(vars[i].name));
        gradients.set(vars[i].name, read[i]);
      }
      adamw.step(params, gradients);
      vars.forEach((v) => v.assign(tf.tensor(params.get(v.name), v.shape, 'float32')));
    }
    if (lag) {
      tf.dispose(loss.grads);
      const read = loss.value.data().then((d) => { loss.value.dispose(); return d[0]; });
      const previous = pending ?? read;
      pending = read;
      return previous;
    }
    const out = (await loss.value.data())[0];
    tf.dispose([loss.value, ...loss.grads]);
    return out;
  }
  let pending = null, enqueueMs = 0;
  /** Frees every tensor the step holds (before the backend is restarted with another thread count). */
  function dispose() {
    tf.dispose([vprefix, tprefix, targets, ...m1, ...m2]);
    onDevice?.dispose();
    hba.dispose();
    clip.dispose();
  }
  /** The last step's loss (waits for the one in flight under `lag`). */
  const settle = async () => { const out = pending ? await pending : null; pending = null; return out; };
  return { step, settle, enqueueMs: () => enqueueMs, dispose, trainableCount: vars.reduce((a, v) => a + v.size, 0) };
}

/**
 * Warm-up steps, then the mean wall and process-CPU seconds of `steps` steps. `settle` (buildStep's,
 * under `lag`): the timed steps end when the last one's loss is read.
 */
export async function timeSteps(step, { warmup = 1, steps = 2, settle = null } = {}) {
  let loss = 0;
  for (let i = 0; i < warmup; i++) loss = await step();
  if (settle) await settle();
  const t0 = performance.now(), c0 = process.cpuUsage();
  for (let i = 0; i < steps; i++) loss = await step();
  if (settle) loss = (await settle()) ?? loss;
  const cpu = process.cpuUsage(c0);
  return { seconds: (performance.now() - t0) / 1000 / steps, cpuSeconds: (cpu.user + cpu.system) / 1e6 / steps, loss };
}
