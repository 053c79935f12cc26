import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dispatchCacheStats, initBackend, tf, type BackendName } from '@lw/models';
import { featuresParams, featuresStage } from '../features/stage.js';
import { makeClipModel, makeToy, stageContext, task } from '../testing/fixtures.js';
import { behaviorParams } from './params.js';
import { behaviorStage } from './stage.js';

/**
 * What a train/behavior task holds in tfjs after each epoch: tensors, data buffers and (webgpu) GPU
 * bytes in use and allocated (tfjs' buffer pool included). A task trains for hundreds of epochs, so any
 * growth per epoch is a leak: on an H200 a ViT-L/14 task grew ~24 MB per epoch (bench/RESULTS.md).
 * Runs the stage itself on a toy set with a micro CLIP: feature cache, two image_noise epochs (full
 * forwards), clean epochs after; then the same task again in the same process, which finds the model
 * and the cache resident (resident.ts) and must hold exactly what the first did. `node dist/behavior/memory-probe.js [backend]
 * [epochs]` prints one JSON line; memory.test.ts runs it on webgpu under lavapipe.
 */
export interface EpochMemory {
  /** 1 or 2: the second task runs in the same process, on the resident model and cache (resident.ts). */
  task: number;
  epoch: number;
  numTensors: number;
  numDataBuffers: number;
  numBytes: number;
  /** webgpu: bytes of live buffers, and of every buffer tfjs holds (in use + its free pool). */
  numBytesInGPU?: number;
  numBytesAllocatedInGPU?: number;
  /** webgpu: uniform buffers and bind groups held by @lw/models' dispatch cache (outside tfjs' counts). */
  uniformBuffers?: number;
  bindGroups?: number;
}

export async function probeBehaviorMemory(backend: BackendName, epochs: number): Promise<{ backend: string; adapter?: string; epochs: EpochMemory[]; testLoss: number[] }> {
  // One backend for the whole process (makeClipModel starts LW_BACKEND's): Dawn is started once.
  process.env.LW_BACKEND = backend;
  const info = await initBackend({ backend });
  const data = makeToy({ images: 300, size: 8 });
  const model = await makeClipModel(data, 'test-clip');
  const fctx = stageContext(featuresParams.parse({ backend, shardSize: 100 }), { data, model });
  await featuresStage.run(fctx);
  const features = task(fctx.outDir, 'train/features', {});
  const rows: EpochMemory[] = [];
  const testLoss: number[] = []; // each task's last test loss: the backends' training compared (memory.test.ts)
  // image_noise in epochs 2-3 (full forwards, the device noise), then clean epochs from the cache.
  const p = behaviorParams.parse({ epochs, patience: 1000, lr: 1e-2, backend, perturb: { type: 'image_noise', start: 2, length: 2 } });
  for (const taskIndex of [1, 2]) {
    const ctx = stageContext(p, { data, model, features });
    const progress = ctx.progress;
    ctx.progress = (done, total, note) => {
      progress(done, total, note);
      const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
      const cache = info.name === 'webgpu' ? dispatchCacheStats() : undefined;
      rows.push({
        task: taskIndex, epoch: done, numTensors: m.numTensors, numDataBuffers: m.numDataBuffers, numBytes: m.numBytes,
        numBytesInGPU: m.numBytesInGPU, numBytesAllocatedInGPU: m.numBytesAllocatedInGPU, uniformBuffers: cache?.uniformBuffers, bindGroups: cache?.bindGroups,
      });
    };
    testLoss.push(Number((await behaviorStage.run(ctx)).testLoss));
  }
  return { backend: info.name, adapter: info.adapter, epochs: rows, testLoss };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  probeBehaviorMemory((process.argv[2] ?? 'webgpu') as BackendName, Number(process.argv[3] ?? 8))
    .then((r) => { console.log(JSON.stringify(r)); process.exit(0); }, (e) => { console.error(e); process.exit(1); });
}
