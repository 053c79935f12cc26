import { defineStage, type StageDef } from '@lw/core';
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

/** The pipeline stages this package provides; `@lw/pipeline` registers them. */
export const stages: StageDef[] = [toyStage as unknown as StageDef];
