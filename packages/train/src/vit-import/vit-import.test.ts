import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TaskResult } from '@lw/core';
import { initBackend, readSafetensors, tf } from '@lw/models';
import { readCheckpoint } from '../checkpoint.js';
import { classifyParams } from '../classify/params.js';
import { classifyStage } from '../classify/stage.js';
import { loadClassifierModel } from '../classify/model-dir.js';
import { makeToy, stageContext, task } from '../testing/fixtures.js';
import { vitImportParams, vitImportStage } from './stage.js';

/**
 * Against packages/models/fixtures/zoo/timm-vit (make.py): timm 1.0.29's vit_base_patch16_224 built
 * at img_size 32, patch 8, width 32, depth 2, 4 heads, mlp_ratio 2, 10 classes, random weights;
 * expected.safetensors holds its images (NHWC) and timm's logits and pre_logits for them.
 */
const fixture = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'models', 'fixtures', 'zoo', 'timm-vit');
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

async function importFixture(params: Record<string, unknown> = {}): Promise<TaskResult> {
  const p = vitImportParams.parse({ checkpoint: fixture, backend: 'cpu', ...params });
  const ctx = stageContext(p, {});
  await vitImportStage.run(ctx);
  return task(ctx.outDir, 'train/vit-import', p);
}

describe('train/vit-import', () => {
  let imported: TaskResult;
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    imported = await importFixture();
  });

  it('imports the timm fixture folder (config auto) and the model task computes timm\'s logits and pre_logits within 1e-4', () => {
    const model = loadClassifierModel(imported.dir);
    expect(model.config).toMatchObject({ kind: 'vit', name: 'vit_base_patch16_224', numClasses: 10, vision: { imageSize: 32, patchSize: 8, width: 32, layers: 2, heads: 4, mlpWidth: 64 } });
    const expected = readSafetensors(join(fixture, 'expected.safetensors'));
    const images = tf.tensor4d(expected.readFloat32('images'), expected.entries.get('images')!.shape as [number, number, number, number]);
    const out = model.forward(images);
    expect(maxAbs(out.logits.dataSync(), expected.readFloat32('logits'))).toBeLessThan(1e-4);
    expect(maxAbs(out.features.dataSync(), expected.readFloat32('pre_logits'))).toBeLessThan(1e-4);
    expected.close();
    model.dispose();
  });

  it('writes timm\'s state-dict names with the same values', () => {
    const a = readSafetensors(join(fixture, 'model.safetensors')), b = readSafetensors(join(imported.dir, 'model.safetensors'));
    expect(b.names().sort()).toEqual(a.names().sort());
    for (const n of a.names()) expect(b.readFloat32(n)).toEqual(a.readFloat32(n));
    a.close();
    b.close();
  });

  it('takes the .safetensors file with a named config, and refuses one that does not fit the weights', async () => {
    await expect(importFixture({ checkpoint: join(fixture, 'model.safetensors'), config: 'tiny-vit' })).rejects.toThrow(/does not match the model config/);
    await expect(importFixture({ config: 'tiny-resnet' })).rejects.toThrow(/params\.config "tiny-resnet" is a resnet config/);
    await expect(importFixture({ checkpoint: join(fixture, 'nothing') })).rejects.toThrow(/cannot read .*nothing/);
    expect(vitImportStage.externalPaths!(vitImportParams.parse({ checkpoint: '/x' }))).toEqual(['/x']);
  });

  describe('train/classify from it (input init)', () => {
    let data: TaskResult;
    beforeAll(() => {
      data = makeToy({ images: 160, size: 32 });
    });
    const run = (params: Record<string, unknown>) => {
      const p = classifyParams.parse({ epochs: 2, warmupEpochs: 1, batchSize: 32, lr: 0.01, augment: 'none', ...params });
      return stageContext(p, { data, init: imported });
    };

    it('starts from the imported weights; the 10-class head is re-initialised for the 8 toy classes, and logged', async () => {
      const ctx = run({});
      const summary = await classifyStage.run(ctx);
      expect(summary).toMatchObject({ model: 'vit_base_patch16_224', kind: 'vit', epochs: 2 });
      expect(ctx.lines.join('\n')).toMatch(/classifier head re-initialised \(seed 1\): the init has 10 classes, the data 8/);
      expect(ctx.recorded).toMatchObject({ numClasses: 8, init: { headReinitialised: true } });
      const start = readCheckpoint(join(ctx.outDir, 'checkpoints'), 0).params;
      const timm = readSafetensors(join(fixture, 'model.safetensors'));
      for (const n of timm.names()) {
        if (n.startsWith('head.')) continue;
        expect(start.get(n), n).toEqual(timm.readFloat32(n));
      }
      expect(start.get('head.weight')!.length).toBe(8 * 32);
      timm.close();
      // it trained from there: epoch 2's weights moved
      expect(readCheckpoint(join(ctx.outDir, 'checkpoints'), 2).params.get('blocks.0.attn.qkv.weight')).not.toEqual(start.get('blocks.0.attn.qkv.weight'));
    });

    it('refuses data whose image size is not the ViT\'s, naming both', async () => {
      const p = classifyParams.parse({ epochs: 2, warmupEpochs: 1, augment: 'none' });
      await expect(classifyStage.run(stageContext(p, { data: makeToy({ images: 60, size: 16 }), init: imported })))
        .rejects.toThrow(/ViT "vit_base_patch16_224" takes 32x32 images; the data set .* has 16x16/);
    });

    it('refuses a params.model of another architecture than the init\'s', async () => {
      await expect(classifyStage.run(run({ model: 'tiny-vit' }))).rejects.toThrow(/params\.model "tiny-vit" is not the architecture of the init input/);
    });
  });
});
