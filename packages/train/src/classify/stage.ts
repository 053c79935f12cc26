import { publishScratch } from '../files.js';
import { classifyMetricsColumns, defineStage, measureMetricsColumns, singleInput, UserError } from '@lw/core';
import { resumePoint } from '../inputs.js';
import { createVitClassifier, modelConfig, type VitConfig } from '@lw/models';
import { writeMetrics } from '../metrics.js';
import { openTrainData } from '../open-data.js';
import { backendResources, startBackend } from '../stage-backend.js';
import { trainClassify } from './loop.js';
import { classifyParams, type ClassifyParams } from './params.js';

/**
 * The last epoch a task trains and checkpoints: params.epochs, or for a measurement (params.perturb)
 * its one epoch E = perturb.start (it resumes from the checkpoint of E-1).
 */
function lastEpoch(p: ClassifyParams): number {
  return p.perturb ? p.perturb.start : p.epochs;
}

/**
 * `train/classify`: the ViT arm (method §7). Trains a ViT classifier from scratch, with per-epoch
 * validation loss and top-1 and RSA of the final-norm CLS token on the test images; or, with
 * params.perturb (start E) and the resume checkpoint E-1, the single-epoch perturbation measurement (one row).
 */
export const classifyStage = defineStage({
  id: 'train/classify',
  description: 'ViT classification from scratch (SGD, warm-up + cosine), per-epoch val loss/top-1 and CLS-token RSA; single-epoch perturbation measurement',
  packageName: '@lw/train',
  params: classifyParams,
  inputs: {
    data: { description: 'A labelled data set (data/toy, data/imagenet)', accepts: ['data/toy', 'data/imagenet'], arity: 'one' },
    rsa: { description: 'The RSA images and human RDM (data/things); default: data', accepts: ['data/toy', 'data/things'], arity: 'one', optional: true },
    resume: { description: 'A checkpoint of another train/classify task: baseline@epoch(E-1)', accepts: ['train/classify'], arity: 'one', optional: true, checkpoint: true },
  },
  lastCheckpoint: lastEpoch,
  // A measurement resumes from E-1 and trains epoch E alone: 1.
  work: (p, resumedFrom) => Math.max(1, lastEpoch(p) - resumedFrom),
  resources: backendResources,
  async run(ctx) {
    const p = ctx.params;
    const backend = await startBackend(ctx, p.backend);
    const data = openTrainData(singleInput(ctx.inputs, 'data', 'train/classify').dir);
    const rsaInput = singleInput(ctx.inputs, 'rsa', 'train/classify', true);
    const rsaData = rsaInput ? openTrainData(rsaInput.dir) : data;
    const base = typeof p.model === 'string' ? modelConfig(p.model) : p.model;
    if (base.kind !== 'vit') throw new UserError(`params.model "${base.name}" is a ${base.kind} config`, 'use a ViT config such as tiny-vit or vit-b16');
    const config: VitConfig = { ...base, numClasses: data.classes?.length ?? base.numClasses };
    const model = createVitClassifier(config, { seed: p.seed });
    const resume = resumePoint(ctx.inputs, 'train/classify');
    ctx.record({ numClasses: config.numClasses });

    const result = await trainClassify({
      params: p, data, rsaData, model,
      resume,
      scratch: ctx.scratchDir, log: ctx.log, progress: ctx.progress, signal: ctx.signal,
    });
    publishScratch(ctx.scratchDir, ctx.outDir);
    writeMetrics(ctx.outDir, p.perturb ? measureMetricsColumns : classifyMetricsColumns, result.rows);
    model.dispose();
    const last = result.rows.at(-1);
    return {
      epochs: result.rows.length, valAcc: last?.val_acc, valLoss: last?.val_loss, rsa: last?.rsa_rho, perturb: p.perturb?.type,
      secondsPerEpoch: result.epochSeconds.reduce((a, b) => a + b, 0) / Math.max(1, result.epochSeconds.length), backend: backend.name,
    };
  },
});

