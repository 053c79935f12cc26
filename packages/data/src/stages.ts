import { defineStage, type StageDef } from '@lw/core';
import { ImagenetParams, convertImagenet, publishConversion } from './imagenet/convert.js';
import { ThingsParams, prepareThings } from './things.js';
import { ToyParams, generateToy } from './toy/generate.js';

export const toyStage = defineStage({
  id: 'data/toy',
  description: 'The embedded default: procedural objects with captions, a 66-d behavioural embedding, 48 test items with a simulated human RDM, and shape labels',
  packageName: '@lw/data',
  params: ToyParams,
  inputs: {},
  async run(ctx) {
    const m = generateToy(ctx.params, ctx.outDir);
    ctx.log(`toy: ${m.counts.train}/${m.counts.val}/${m.counts.test} items at ${m.image.height}x${m.image.width}`);
    return { counts: m.counts, image: m.image, classes: m.classes?.length, targetDim: m.targetDim };
  },
});

export const thingsStage = defineStage({
  id: 'data/things',
  description: 'THINGS reference images + SPoSE 66-d targets + the 48-image human RDM as Arrow shards (1444/362/48)',
  packageName: '@lw/data',
  params: ThingsParams,
  inputs: {},
  externalPaths: (p) => [p.images, p.embeddings, p.testIndex, p.humanRdm, ...[p.names, p.prompts, p.splitFile].filter((f): f is string => f !== undefined)],
  async run(ctx) {
    const m = await prepareThings(ctx.params, ctx.outDir, { log: ctx.log, progress: (d, t) => ctx.progress(d, t, 'images'), signal: ctx.signal });
    return { counts: m.counts, image: m.image, targetDim: m.targetDim };
  },
});

export const imagenetStage = defineStage({
  id: 'data/imagenet',
  description: 'ILSVRC-2012 as Arrow shards: train at short side 256 (crop at load time), val Resize 256 + CenterCrop 224; resumable',
  packageName: '@lw/data',
  params: ImagenetParams,
  inputs: {},
  externalPaths: (p) => [p.root, ...(p.valLabels ? [p.valLabels] : []), ...(p.synsets ? [p.synsets] : [])],
  async run(ctx) {
    // converted in the scratch directory, which survives a crash, so a rerun keeps finished shards
    const m = await convertImagenet(ctx.params, ctx.scratchDir, { log: ctx.log, progress: (d, t) => ctx.progress(d, t, 'images'), signal: ctx.signal });
    publishConversion(ctx.scratchDir, ctx.outDir, m);
    return { counts: m.counts, classes: m.classes?.length, corrupt: m.corrupt.length, reusedShards: m.reused };
  },
});

/** The pipeline stages this package provides; `@lw/pipeline` registers them. */
export const stages: StageDef[] = [toyStage, thingsStage, imagenetStage] as unknown as StageDef[];
