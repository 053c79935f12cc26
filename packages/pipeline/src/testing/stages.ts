import { z } from 'zod';
import { defineStage, type StageDef } from '@lw/core';
import { execStage } from '../stages/exec-stage.js';
import type { Registry } from '../stages/registry.js';

/**
 * A small registry for planner tests: `exec` plus a training-like stage with the real shape of
 * train params (epochs, seed, perturb), a checkpoint input and the contract's lastCheckpoint, work and
 * resources (seed 99 asks for a GPU), so references, epoch checks and work estimates are exercised
 * without the training package.
 */
const trainParams = z.strictObject({
  epochs: z.number().int().positive(),
  seed: z.number().int().default(1),
  perturb: z
    .strictObject({
      type: z.enum(['random_target', 'label_shuffle', 'image_noise', 'blank_image']),
      start: z.number().int().min(1),
      length: z.number().int().min(1).default(1),
    })
    .optional(),
});

export const fakeTrain = defineStage({
  id: 'train/fake',
  description: 'test-only training-like stage',
  packageName: '@lw/test',
  params: trainParams,
  inputs: {
    data: { description: 'a data set', arity: 'one' },
    resume: { description: 'checkpoint to resume from', optional: true, checkpoint: true, arity: 'one' },
  },
  async run() {
    return {};
  },
  lastCheckpoint: (p) => p.epochs,
  work: (p, resumedFrom) => p.epochs - resumedFrom,
  resources: (p) => (p.seed === 99 ? { gpus: 1 } : {}),
});

export function testRegistry(): Registry {
  return new Map([
    ['exec', { def: execStage as unknown as StageDef, packageDir: '/pkg/pipeline', codeFiles: [] }],
    ['train/fake', { def: fakeTrain as unknown as StageDef, packageDir: '/pkg/train' }],
  ]);
}
