// A tiny ViT block (width 64, 4 heads, 65 tokens, batch 16; the default study's scale) forward + backward
// on wasm: wall and process-CPU ms per step at a given XNNPACK thread count (thread hand-off cost).
//   node bench/model-step/small-block.mjs <threads>
import { blockSpecs, blockWeights, initBackend, initParams, residualBlock, tf, vitBlockNames } from '@lw/models';
const threads = Number(process.argv[2]);
await initBackend({ backend: 'wasm', threads });
const names = vitBlockNames('clip', 'visual.', 0);
const params = initParams(blockSpecs('clip', names, 64, 256, 4), 7, true);
const x = tf.randomNormal([16, 65, 64]);
const vars = [...params.tensors.values()];
const once = () => { const r = tf.variableGrads(() => tf.sum(tf.square(residualBlock(x, blockWeights(params, names), { heads: 4, lnEps: 1e-5, activation: 'quick_gelu' }))), vars); r.value.dataSync(); tf.dispose([r.value, ...Object.values(r.grads)]); };
once();
const t0 = performance.now(), c0 = process.cpuUsage();
for (let i = 0; i < 20; i++) once();
const c = process.cpuUsage(c0);
console.log(`tiny block fwd+bwd, ${threads} thread(s): ${((performance.now() - t0) / 20).toFixed(1)} ms wall, ${((c.user + c.system) / 1000 / 20).toFixed(1)} ms cpu per step`);
process.exit(0);
