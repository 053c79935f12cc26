import { publishScratch } from '../files.js';
import { behaviorMetricsColumns, defineStage, singleInput } from '@lw/core';
import { resumePoint } from '../inputs.js';
import { createClipHba, type ClipConfig } from '@lw/models';
import { writeMetrics } from '../metrics.js';
import { writeEpochMeasures } from '../fisher.js';
import { writeLayerRsa } from '../layer-rsa.js';
import { residentClip, residentData, residentFeatures } from '../resident.js';
import { backendResources, startBackend } from '../stage-backend.js';
import { promptTokens } from '../tokens.js';
import { trainBehavior } from './loop.js';
import { behaviorParams } from './params.js';

/**
 * `train/behavior`: CLIP-HBA fine-tuning (method §1, §3, §4). Inputs: the data set, the CLIP to
 * fine-tune (a train/clip-pretrain task), optionally its feature cache (train/features), and
 * optionally one checkpoint of another behaviour task to resume from (`baseline@epoch(E - 1)`).
 * Outputs: metrics.csv/.arrow (the study's 9 columns), checkpoints/epoch{N}.*, embeddings/epoch{N}.arrow,
 * with params.layers layer_rsa.csv/.arrow, with params.fisher epoch_measures.csv/.arrow (behavior/epoch-measures.ts),
 * task.log; it records the backend, the model's name and whether the feature cache was used (params.json).
 */
export const behaviorStage = defineStage({
  id: 'train/behavior',
  description: 'CLIP-HBA behavioural fine-tuning with DoRA, perturbation windows, per-epoch RSA and checkpoints',
  packageName: '@lw/train',
  params: behaviorParams,
  inputs: {
    data: { description: 'A THINGS-like data set (targets, prompts, human RDM)', accepts: ['data/toy', 'data/things'], arity: 'one' },
    model: { description: 'The CLIP to fine-tune (train/clip-pretrain, or train/clip-import for a real checkpoint)', accepts: ['train/clip-pretrain', 'train/clip-import'], arity: 'one' },
    features: { description: 'Frozen-prefix features of that CLIP on that data (train/features)', accepts: ['train/features'], arity: 'one', optional: true },
    resume: { description: 'A checkpoint of another train/behavior task: baseline@epoch(N)', accepts: ['train/behavior'], arity: 'one', optional: true, checkpoint: true },
  },
  // Checkpoints 0..epochs (early stopping may end it sooner); a run resumed from E trains epochs E+1..
  lastCheckpoint: (p) => p.epochs,
  work: (p, resumedFrom) => Math.max(1, p.epochs - resumedFrom),
  resources: backendResources,
  async run(ctx) {
    const p = ctx.params;
    // Seconds of each setup phase, logged as one `setup:` line (bench/study-gpu reads it: per-task overhead).
    const setup: Record<string, number> = {};
    let mark = performance.now();
    const phase = (name: string) => { const now = performance.now(); setup[name] = +((now - mark) / 1000).toFixed(3); mark = now; };
    const backend = await startBackend(ctx, p.backend);
    phase('backend');
    // Model, data and feature cache stay in this process for the next task that uses them (resident.ts).
    const data = residentData(singleInput(ctx.inputs, 'data', 'train/behavior').dir);
    const modelInput = singleInput(ctx.inputs, 'model', 'train/behavior');
    const clip = residentClip(modelInput.dir);
    phase('model');
    const config = clip.config as ClipConfig;
    const hba = createClipHba(clip, {
      visionDoraBlocks: config.dora.visionBlocks, textDoraBlocks: config.dora.textBlocks,
      rank: config.dora.rank, alpha: config.dora.alpha, seed: p.seed, prompts: promptTokens(data, config, modelInput.dir),
    });
    phase('dora');
    const features = singleInput(ctx.inputs, 'features', 'train/behavior', true);
    const cache = features && p.featureCache ? residentFeatures(features.dir) : undefined;
    phase('features');
    const resume = resumePoint(ctx.inputs, 'train/behavior');
    ctx.record({ model: config.name, featureCache: cache !== undefined });
    ctx.log(`setup: ${Object.entries(setup).map(([k, v]) => `${k} ${v}s`).join(', ')}`);

    // The DoRA layers live in the resident model's parameter store: removed however the task ends,
    // so the next task in this process starts from the frozen weights alone.
    let result;
    try {
      result = await trainBehavior({
        params: p, data, hba, cache,
        resume,
        scratch: ctx.scratchDir, log: ctx.log, progress: ctx.progress, signal: ctx.signal,
      });
    } finally {
      hba.dispose();
    }

    mark = performance.now();
    publishScratch(ctx.scratchDir, ctx.outDir);
    writeMetrics(ctx.outDir, behaviorMetricsColumns, result.rows);
    if (result.layerRows) writeLayerRsa(ctx.outDir, result.layerRows);
    if (result.fisherRows) writeEpochMeasures(ctx.outDir, result.fisherRows);
    ctx.log(`teardown: ${((performance.now() - mark) / 1000).toFixed(3)}s`);
    const last = result.rows.at(-1);
    const meanEpoch = result.epochSeconds.length ? result.epochSeconds.reduce((a, b) => a + b, 0) / result.epochSeconds.length : undefined;
    return {
      epochs: result.rows.length, firstEpoch: result.rows[0]?.epoch, lastEpoch: last?.epoch, stoppedEarly: result.stoppedEarly,
      testLoss: last?.test_loss, rsa: last?.behavioral_rsa_rho, trainable: result.trainableCount,
      secondsPerEpoch: meanEpoch, backend: backend.name,
    };
  },
});

