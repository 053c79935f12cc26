import { describe, expect, it } from 'vitest';
import { behaviorParams } from './behavior/params.js';
import { behaviorStage } from './behavior/stage.js';
import { classifyParams } from './classify/params.js';
import { classifyStage } from './classify/stage.js';
import { clipImportParams, clipImportStage } from './clip-import/stage.js';
import { featuresParams, featuresStage } from './features/stage.js';
import { pretrainParams, pretrainStage } from './pretrain/stage.js';
import { startBackend } from './stage-backend.js';
import { resnetImportParams, resnetImportStage } from './resnet-import/stage.js';
import { stages } from './stages.js';
import { vitImportParams, vitImportStage } from './vit-import/stage.js';

/**
 * What the train stages tell the pipeline through the stage contract (@lw/core stage.ts): the
 * checkpoints a task writes, its work for the executor's start order, and its GPU needs.
 */
describe('train stages: the stage contract', () => {
  it('train/behavior: checkpoints 0..epochs, work = epochs after the resumed checkpoint (at least 1)', () => {
    const p = behaviorParams.parse({ epochs: 30 });
    expect(behaviorStage.lastCheckpoint!(p)).toBe(30);
    expect(behaviorStage.work!(p, 0)).toBe(30);
    expect(behaviorStage.work!(p, 24)).toBe(6);
    expect(behaviorStage.work!(p, 30)).toBe(1);
  });

  it('train/classify: a training run as train/behavior; a measurement checkpoints and trains its one epoch', () => {
    const run = classifyParams.parse({ epochs: 20 });
    expect(classifyStage.lastCheckpoint!(run)).toBe(20);
    expect(classifyStage.work!(run, 0)).toBe(20);
    const measure = classifyParams.parse({ epochs: 20, perturb: { type: 'gaussian', start: 10 } });
    expect(classifyStage.lastCheckpoint!(measure)).toBe(10);
    expect(classifyStage.work!(measure, 9)).toBe(1);
  });

  it('stages without checkpoints: pretraining counts its epochs, the others the default', () => {
    expect(pretrainStage.lastCheckpoint).toBeUndefined();
    expect(pretrainStage.work!(pretrainParams.parse({ epochs: 8 }), 0)).toBe(8);
    for (const s of [featuresStage, clipImportStage, vitImportStage, resnetImportStage]) {
      expect(s.lastCheckpoint).toBeUndefined();
      expect(s.work).toBeUndefined();
    }
  });

  it('ask for one GPU exactly when the backend param is webgpu', () => {
    const cases = [
      [behaviorStage, behaviorParams], [classifyStage, classifyParams], [pretrainStage, pretrainParams],
      [featuresStage, featuresParams], [clipImportStage, clipImportParams.extend({ checkpoint: clipImportParams.shape.checkpoint.default('/x') })],
      [vitImportStage, vitImportParams.extend({ checkpoint: vitImportParams.shape.checkpoint.default('/x') })],
      [resnetImportStage, resnetImportParams.extend({ checkpoint: resnetImportParams.shape.checkpoint.default('/x') })],
    ] as const;
    expect(stages).toHaveLength(cases.length);
    for (const [stage, schema] of cases) {
      const resources = stage.resources as (p: unknown) => unknown;
      expect(resources(schema.parse({ backend: 'webgpu' })), stage.id).toEqual({ gpus: 1 });
      for (const backend of ['auto', 'wasm', 'cpu', 'tensorflow']) expect(resources(schema.parse({ backend })), `${stage.id} ${backend}`).toEqual({});
    }
  });

  it('startBackend records the backend it started for params.json', async () => {
    const recorded: Record<string, unknown> = {};
    const info = await startBackend({ threads: 1, gpus: [], record: (f) => Object.assign(recorded, f) }, 'cpu');
    expect(info.name).toBe('cpu');
    expect(recorded).toEqual({ backend: info });
  });
});
