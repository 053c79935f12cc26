/**
 * bench/epoch: wall time of one CLIP-HBA epoch at the study's sizes (1444 train + 362 val + 48 RSA
 * images at 224 px, ViT-L/14 with random weights, batch 64, DoRA on vision 22-23 + text 11), through
 * @lw/train's own loop, without and with the frozen-prefix feature cache. Reference: the study's
 * PyTorch code took about 46 s per epoch (method §8; 64.0 h for 4,976 epochs, GPU unknown).
 *
 * Run: node bench/epoch/run.mjs (after `npm run build`), or on the GPU machine through gpu-kit:
 *   bash ../shared/tools/gpu-kit/prepare.sh bench/epoch/run.ts; run(bash .gpu-kit/run.sh ...)
 * Flags: --config clip-vit-l14 --train 1444 --val 362 --test 48 --backend auto --mode both|cache|full
 *        --feature-batch 16 (images per prefix pass: the first webgpu attempt at 64 ran out of GPU memory)
 *        --epochs 1 (per mode; epoch 1 includes one-time costs such as shader compilation)
 *        --cpu-prof (a V8 profile of the cached epochs, written to $OUT or .)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
// @ts-expect-error: a plain .mjs helper without types
import { startCpuProfile } from '../cpu-profile.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@lw/core';
import { toHumanRdm } from '@lw/eval';
import { createClip, createClipHba, initBackend, modelConfig, tf, type BackendName, type ClipConfig } from '@lw/models';
import type { BatchOptions } from '@lw/data';
// @lw/train/loops, not the index: the index also loads @lw/data, whose image codec (sharp) is native
// and absent on the GPU machine; the training loop itself needs none of it.
import { behaviorParams, FeatureCache, trainBehavior, writeFeatures, type SplitArrays, type TrainBatchData, type TrainData } from '@lw/train/loops';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

/** Synthetic THINGS-sized data: random normalised pixels, targets in [0, 100], a random RDM. */
function syntheticData(size: number, counts: { train: number; val: number; test: number }): TrainData {
  const pixels = size * size * 3;
  const split = (name: string, n: number): SplitArrays => {
    const images = new Float32Array(n * pixels);
    // a cheap xorshift fill: the pixel values do not matter for timing
    let s = name.length * 2654435761 >>> 0 || 1;
    for (let i = 0; i < images.length; i++) { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; images[i] = ((s >>> 0) / 4294967296) * 4 - 2; }
    const targets = new Rng(7, 'targets', name).uniforms(n * 66, 0, 100);
    return { ids: Array.from({ length: n }, (_, i) => `${name}_${i}`), count: n, images, targets };
  };
  const splits = { train: split('train', counts.train), val: split('val', counts.val), test: split('test', counts.test) };
  const n = counts.test, rdm = new Float64Array(n * n), r = new Rng(7, 'rdm');
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) rdm[i * n + j] = rdm[j * n + i] = r.uniform();
  return {
    dir: '(synthetic)', kind: 'things', imageShape: [size, size, 3], normalization: { mean: [0, 0, 0], std: [1, 1, 1] }, counts, targetDim: 66,
    humanRdm: toHumanRdm(rdm, 'synthetic RDM', splits.test.ids),
    captions: () => undefined, labels: () => undefined,
    loadSplit: (name) => splits[name],
    async *batches(name, o: BatchOptions): AsyncGenerator<TrainBatchData> {
      const s = splits[name];
      const order = o.shuffle ? new Rng(o.seed, 'shuffle', o.epoch).permutation(s.count) : Int32Array.from({ length: s.count }, (_, i) => i);
      for (let b = 0, index = 0; b < s.count; b += o.batchSize, index++) {
        const rows = order.subarray(b, Math.min(s.count, b + o.batchSize));
        const images = new Float32Array(rows.length * pixels), targets = new Float32Array(rows.length * 66);
        rows.forEach((r, i) => { images.set(s.images.subarray(r * pixels, (r + 1) * pixels), i * pixels); targets.set(s.targets!.subarray(r * 66, (r + 1) * 66), i * 66); });
        yield { index, ids: Array.from(rows, (r) => s.ids[r]), rows, images, targets };
      }
    },
  };
}

/** CPU seconds (user + system) of this process since `from`: fairer than wall time on a shared machine. */
function cpuSeconds(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

async function main(): Promise<number> {
  const backend = await initBackend({ backend: arg('backend', 'auto') as BackendName });
  const config = modelConfig(arg('config', 'clip-vit-l14')) as ClipConfig;
  const counts = { train: Number(arg('train', '1444')), val: Number(arg('val', '362')), test: Number(arg('test', '48')) };
  const mode = arg('mode', 'both');
  const t0 = performance.now();
  const clip = createClip(config, { seed: 1 });
  const ctx = config.text.contextLength;
  // 66 prompts of 6 tokens between the start and end tokens (the ids do not matter for timing)
  const prompts = new Int32Array(66 * ctx);
  for (let p = 0; p < 66; p++) { prompts[p * ctx] = config.text.vocabSize - 2; for (let j = 1; j <= 6; j++) prompts[p * ctx + j] = 3 + ((p * 7 + j) % (config.text.vocabSize - 5)); prompts[p * ctx + 7] = config.text.vocabSize - 1; }
  const hba = createClipHba(clip, { visionDoraBlocks: config.dora.visionBlocks, textDoraBlocks: config.dora.textBlocks, rank: config.dora.rank, alpha: config.dora.alpha, seed: 1, prompts });
  const data = syntheticData(config.vision.imageSize, counts);
  const setupS = (performance.now() - t0) / 1000;
  console.error(`backend ${JSON.stringify(backend)}; model + data ready in ${setupS.toFixed(1)} s`);
  // Timed as a perturbation run (random targets in epoch 1): the loop then skips the initial
  // validation pass, which is outside the epoch anyway; drawing 64 x 66 targets costs nothing.
  // --epochs N: N epochs per mode; epoch 1 also pays one-time costs (shader compilation, buffer pools,
  // prepared weights), so later epochs show the steady state the study's per-epoch average reflects.
  const params = behaviorParams.parse({ epochs: Number(arg('epochs', '1')), patience: 20, backend: backend.name });
  const io = { log: (m: string) => console.error(m), progress: () => {}, signal: new AbortController().signal };
  const result: Record<string, unknown> = { backend, config: config.name, counts, setupS };
  // Both modes start from the same DoRA weights (the first run trains them in place), so their
  // epoch-1 losses must agree: a check that the cached prefixes equal the full forward's.
  const initial = new Map([...hba.trainable].map(([k, v]) => [k, tf.keep(tf.clone(v))]));
  const reset = () => { for (const [k, v] of hba.trainable) v.assign(initial.get(k)!); };

  if (mode !== 'cache') {
    const scratch = mkdtempSync(join(tmpdir(), 'lw-bench-epoch-'));
    const c0 = process.cpuUsage();
    const r = await trainBehavior({ params: { ...params, perturb: { type: 'random_target', start: 1, length: 1, seed: 42, distribution: 'target' } }, data, hba, scratch, ...io });
    result.fullEpochS = r.epochSeconds[0];
    result.fullEpochsS = r.epochSeconds;
    result.fullCpuS = cpuSeconds(c0); // includes the loop's setup (split loading), not only the epoch
    rmSync(scratch, { recursive: true, force: true });
  }
  if (mode !== 'full') {
    const dir = mkdtempSync(join(tmpdir(), 'lw-bench-features-'));
    const f0 = performance.now();
    await writeFeatures(dir, clip, data, prompts, { dtype: 'float32', batchSize: Number(arg('feature-batch', '16')), shardSize: 256 }, () => {});
    result.featuresS = (performance.now() - f0) / 1000;
    const cache = FeatureCache.open(dir);
    reset();
    const scratch = mkdtempSync(join(tmpdir(), 'lw-bench-epoch-'));
    const c0 = process.cpuUsage();
    const profiler = process.argv.includes('--cpu-prof') ? await startCpuProfile() : null;
    const r = await trainBehavior({ params: { ...params, perturb: { type: 'random_target', start: 1, length: 1, seed: 42, distribution: 'target' } }, data, hba, cache, scratch, ...io });
    await profiler?.stop(join(process.env.OUT ?? '.', 'epoch-cache.cpuprofile'));
    result.cachedEpochS = r.epochSeconds[0];
    result.cachedEpochsS = r.epochSeconds;
    result.cachedCpuS = cpuSeconds(c0);
    cache.dispose();
    rmSync(scratch, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
  const ref = 46;
  console.log(`| mode | ours wall (s/epoch) | ours CPU s | study PyTorch (s/epoch) | ratio ref/ours wall |`);
  for (const [name, key, cpu] of [['full forward', 'fullEpochS', 'fullCpuS'], ['feature cache', 'cachedEpochS', 'cachedCpuS']] as const) {
    const v = result[key] as number | undefined;
    if (v !== undefined) console.log(`| ${name} | ${v.toFixed(2)} | ${(result[cpu] as number).toFixed(2)} | ${ref} | ${(ref / v).toFixed(2)}x |`);
  }
  for (const [name, key] of [['full forward', 'fullEpochsS'], ['feature cache', 'cachedEpochsS']] as const) {
    const all = result[key] as number[] | undefined;
    if (all && all.length > 1) console.log(`${name}, every epoch (s): ${all.map((v) => v.toFixed(2)).join(', ')}`);
  }
  if (result.featuresS !== undefined) console.log(`feature cache build (once per weights+data): ${(result.featuresS as number).toFixed(1)} s`);
  console.log(JSON.stringify(result));
  if (process.env.OUT) writeFileSync(join(process.env.OUT, 'epoch.json'), JSON.stringify(result, null, 2));
  return 0;
}

main().then((code) => process.exit(code), (e) => { console.error(e); process.exit(1); });
