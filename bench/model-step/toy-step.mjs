#!/usr/bin/env node
// bench/model-step/toy-step: one training step of the embedded default study's CLIP-HBA (pipelines/sweep.yaml:
// tiny CLIP, 16 px images, width 64, 4 vision + 2 text blocks, DoRA rank 32 on every block, batch 16, the
// 66 prompts at 8 used tokens) from cached prefixes: the step the default sweep repeats ~10,000 times.
// Prints the mean step time over 40 steps (after 5 warm-up) and a tf.profile of one step by kernel.
//   npx tsc -b packages/models && node bench/model-step/toy-step.mjs [wasm|cpu|webgpu]
// (tf.profile's per-kernel times include the kernels' JavaScript; 'forward' rows are custom-gradient
// wrappers whose time includes the kernels inside them.)
import { createClip, createClipHba, initBackend, ModelConfig, tf } from '@lw/models';

await initBackend({ backend: process.argv[2] ?? 'wasm' });
const cfg = ModelConfig.parse({
  kind: 'clip', name: 'toy-clip', embedDim: 64,
  vision: { layout: 'clip', imageSize: 16, patchSize: 4, width: 64, layers: 4, heads: 2, mlpWidth: 256, lnEps: 1e-5, activation: 'quick_gelu' },
  text: { vocabSize: 512, contextLength: 16, width: 64, layers: 2, heads: 2, mlpWidth: 256, tokenizer: 'words' },
  dora: { visionBlocks: [0, 1, 2, 3], textBlocks: [0, 1], rank: 32, alpha: 16 },
});
const clip = createClip(cfg, { seed: 1 });
// 66 prompts of 5-6 words between start and end tokens: 8 used positions, as the toy captions.
const ctx = 16, P = 66, prompts = new Int32Array(P * ctx);
for (let p = 0; p < P; p++) {
  const len = 5 + (p % 2);
  prompts[p * ctx] = 1;
  for (let j = 1; j <= len; j++) prompts[p * ctx + j] = 3 + ((p * 7 + j) % 500);
  prompts[p * ctx + len + 1] = 511;
}
const hba = createClipHba(clip, { visionDoraBlocks: [0, 1, 2, 3], textDoraBlocks: [0, 1], rank: 32, alpha: 16, seed: 1, prompts });
const vp = hba.visionPrefix(tf.randomNormal([16, 16, 16, 3], 0, 1, 'float32', 1)); // [16, 17, 64]
const tp = hba.textPrefix(); // [66, 8, 64]
const targets = tf.randomUniform([16, P], 0, 10, 'float32', 2);
const vars = [...hba.trainable.values()];
const step = () => {
  const { value, grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(hba.predictFromPrefix(tf.clone(vp), tf.clone(tp)), targets)), vars);
  return [value, ...Object.values(grads)];
};
for (let i = 0; i < 5; i++) tf.dispose(step());
const n = 40;
const t0 = performance.now();
for (let i = 0; i < n; i++) {
  const out = step();
  await Promise.all(out.map((t) => t.data()));
  tf.dispose(out);
}
const ms = (performance.now() - t0) / n;
const prof = await tf.profile(() => step());
const byName = new Map(), byShape = new Map();
for (const k of prof.kernels) {
  for (const [map, key] of [[byName, k.name], [byShape, `${k.name} ${JSON.stringify(k.inputShapes)}`]]) {
    const e = map.get(key) ?? { ms: 0, n: 0 };
    e.ms += k.kernelTimeMs; e.n++; map.set(key, e);
  }
}
const table = (map, rows) => [...map].sort((a, b) => b[1].ms - a[1].ms).slice(0, rows).map(([k, e]) => `${e.ms.toFixed(2).padStart(8)} ms ${String(e.n).padStart(5)}x ${k}`).join('\n');
console.log(`${tf.getBackend()}: ${ms.toFixed(2)} ms/step over ${n} steps; one profiled step: ${prof.kernels.length} kernels`);
console.log(table(byName, 20));
console.log('---');
console.log(table(byShape, +(process.env.ROWS ?? 25)));
process.exit(0);
