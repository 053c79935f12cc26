import { publishScratch } from '../files.js';
import { classifyMetricsColumns, defineStage, measureMetricsColumns, singleInput, UserError } from '@lw/core';
import { resumePoint } from '../inputs.js';
import { modelConfig } from '@lw/models';
import { writeMetrics } from '../metrics.js';
import { openTrainData } from '../open-data.js';
import { backendResources, startBackend } from '../stage-backend.js';
import { createClassifier, type ClassifierConfig } from './classifier.js';
import { writeClassifyMeasures } from './epoch-measures.js';
import { trainClassify } from './loop.js';
import { loadClassifierModel, sameArchitecture, startFrom } from './model-dir.js';
import { classifyParams, type ClassifyParams } from './params.js';

/**
 * The last epoch a task trains and checkpoints: params.epochs, or for a measurement (params.perturb)
 * its one epoch E = perturb.start (it resumes from the checkpoint of E-1).
 */
function lastEpoch(p: ClassifyParams): number {
  return p.perturb ? p.perturb.start : p.epochs;
}

/**
 * The architecture to train: params.model, or the init's, or the study's ViT-B/16. Both given must
 * agree (apart from name and classes): the init's weights fit only its own architecture.
 */
function modelToTrain(model: ClassifyParams['model'], init: ClassifierConfig | undefined, initDir: string | undefined): ClassifierConfig {
  const given = model === undefined ? undefined : typeof model === 'string' ? modelConfig(model) : model;
  if (given && given.kind !== 'vit' && given.kind !== 'resnet') {
    throw new UserError(`params.model "${given.name}" is a ${given.kind} config`, 'use a ViT config (tiny-vit, vit-b16) or a ResNet config (tiny-resnet, resnet18, resnet50)');
  }
  if (given && init && !sameArchitecture(given, init)) {
    throw new UserError(`params.model "${given.name}" is not the architecture of the init input ${initDir} (${init.name})`,
      'leave params.model out to train the init\'s architecture, or name the config it was imported with');
  }
  return given ?? init ?? modelConfig('vit-b16');
}

/**
 * `train/classify`: the ViT arm (method §7) and a CNN arm. Trains a ViT or ResNet classifier from
 * scratch (or from an imported checkpoint, input init), with per-epoch validation loss and top-1 and
 * RSA of its features (ViT: final-norm CLS token; ResNet: pooled last stage) on the test images; or,
 * with params.perturb (start E) and the resume checkpoint E-1, the single-epoch perturbation measurement (one row).
 */
export const classifyStage = defineStage({
  id: 'train/classify',
  description: 'ViT or ResNet classification from scratch or from an imported ViT (SGD/AdamW, warm-up + cosine), per-epoch val loss/top-1 and feature RSA; single-epoch perturbation measurement',
  packageName: '@lw/train',
  params: classifyParams,
  inputs: {
    data: { description: 'A labelled data set (data/toy, data/imagenet)', accepts: ['data/toy', 'data/imagenet'], arity: 'one' },
    rsa: { description: 'The RSA images and human RDM (data/things); default: data', accepts: ['data/toy', 'data/things'], arity: 'one', optional: true },
    resume: { description: 'A checkpoint of another train/classify task: baseline@epoch(E-1)', accepts: ['train/classify'], arity: 'one', optional: true, checkpoint: true },
    init: { description: 'Pretrained start weights (train/vit-import, train/resnet-import); the head is re-initialised when its class count is not the data set\'s', accepts: ['train/vit-import', 'train/resnet-import'], arity: 'one', optional: true },
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
    const initInput = singleInput(ctx.inputs, 'init', 'train/classify', true);
    const init = initInput ? loadClassifierModel(initInput.dir) : undefined;
    const base = modelToTrain(p.model, init?.config, initInput?.dir);
    const [H, W] = data.imageShape;
    if (base.kind === 'vit' && (H !== base.vision.imageSize || W !== base.vision.imageSize)) {
      throw new UserError(`ViT "${base.name}" takes ${base.vision.imageSize}x${base.vision.imageSize} images; the data set ${data.dir} has ${H}x${W}`,
        `make the data at ${base.vision.imageSize} px (data/toy: size), or use a ViT config of the data's size (a ResNet takes any size)`);
    }
    const model = createClassifier(base, { numClasses: data.classes?.length ?? base.numClasses, seed: p.seed });
    if (init) {
      const done = startFrom(model, init, initInput!.dir);
      init.dispose();
      ctx.log(`init: ${done.copied} tensors from ${initInput!.dir} (${base.name})`);
      if (done.headReinitialised) ctx.log(`init: classifier head re-initialised (seed ${p.seed}): the init has ${init.numClasses} classes, the data ${model.numClasses}`);
      ctx.record({ init: { dir: initInput!.dir, config: base.name, headReinitialised: done.headReinitialised } });
    }
    const resume = resumePoint(ctx.inputs, 'train/classify');
    ctx.record({ numClasses: model.numClasses, model: base.name, kind: base.kind });

    const result = await trainClassify({
      params: p, data, rsaData, model,
      resume,
      scratch: ctx.scratchDir, log: ctx.log, progress: ctx.progress, signal: ctx.signal,
    });
    publishScratch(ctx.scratchDir, ctx.outDir);
    writeMetrics(ctx.outDir, p.perturb ? measureMetricsColumns : classifyMetricsColumns, result.rows);
    writeClassifyMeasures(ctx.outDir, result);
    model.dispose();
    const last = result.rows.at(-1);
    return {
      model: base.name, kind: base.kind, epochs: result.rows.length, valAcc: last?.val_acc, valLoss: last?.val_loss, rsa: last?.rsa_rho, perturb: p.perturb?.type,
      secondsPerEpoch: result.epochSeconds.reduce((a, b) => a + b, 0) / Math.max(1, result.epochSeconds.length), backend: backend.name,
    };
  },
});

