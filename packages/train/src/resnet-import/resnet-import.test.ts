import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { initBackend, readSafetensors, tf } from '@lw/models';
import { readCheckpoint } from '../checkpoint.js';
import { loadClassifierModel } from '../classify/model-dir.js';
import { classifyParams } from '../classify/params.js';
import { classifyStage } from '../classify/stage.js';
import { makeToy, stageContext, task } from '../testing/fixtures.js';
import { resnetImportParams, resnetImportStage } from './stage.js';

/**
 * Against packages/models/fixtures/zoo/resnet18-tv (make.py): torchvision's ResNet with basic blocks
 * [2, 1, 1, 1] at widths 8-16-32-64, 10 classes, random BatchNorm statistics; expected.safetensors
 * holds 64-px images and torchvision's eval logits for them.
 */
const fixture = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'models', 'fixtures', 'zoo', 'resnet18-tv');
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('train/resnet-import', () => {
  it('imports a torchvision state dict (config from the shapes) that computes torchvision\'s logits, and train/classify starts from it', async () => {
    await initBackend({ backend: 'cpu' });
    const p = resnetImportParams.parse({ checkpoint: fixture, imageSize: 64, backend: 'cpu' });
    const ctx = stageContext(p, {});
    await resnetImportStage.run(ctx);
    const model = loadClassifierModel(ctx.outDir);
    expect(model.config).toMatchObject({ kind: 'resnet', block: 'basic', layers: [2, 1, 1, 1], widths: [8, 16, 32, 64], stemWidth: 8, numClasses: 10, imageSize: 64 });
    const expected = readSafetensors(join(fixture, 'expected.safetensors'));
    const images = tf.tensor4d(expected.readFloat32('images'), expected.entries.get('images')!.shape as [number, number, number, number]);
    expect(maxAbs(model.forward(images).logits.dataSync(), expected.readFloat32('eval_logits'))).toBeLessThan(1e-4);
    expected.close();
    model.dispose();
    // the file keeps torchvision's names and OIHW convs
    const a = readSafetensors(join(fixture, 'model.safetensors')), b = readSafetensors(join(ctx.outDir, 'model.safetensors'));
    for (const n of b.names()) expect(b.readFloat32(n), n).toEqual(a.readFloat32(n));
    expect(a.names().filter((n) => !n.endsWith('num_batches_tracked')).sort()).toEqual(b.names().sort());

    // 16-px toy, 8 classes: the 10-class fc is re-initialised; convs, BatchNorm weights and running statistics start from the file
    const data = makeToy({ images: 120, size: 16 });
    const c = stageContext(classifyParams.parse({ epochs: 2, warmupEpochs: 1, batchSize: 32, lr: 0.01, augment: 'none' }),
      { data, init: task(ctx.outDir, 'train/resnet-import', p) });
    await classifyStage.run(c);
    expect(c.lines.join('\n')).toMatch(/classifier head re-initialised \(seed 1\): the init has 10 classes, the data 8/);
    const start = readCheckpoint(join(c.outDir, 'checkpoints'), 0);
    expect(start.state!.get('layer1.0.bn2.running_var')).toEqual(a.readFloat32('layer1.0.bn2.running_var'));
    expect(start.params.get('bn1.weight')).toEqual(a.readFloat32('bn1.weight'));
    expect(start.params.get('fc.weight')!.length).toBe(8 * 64);
    a.close();
    b.close();
  });

  it('checks a named config against the weights', async () => {
    const ctx = stageContext(resnetImportParams.parse({ checkpoint: join(fixture, 'model.safetensors'), config: 'resnet18', backend: 'cpu' }), {});
    await expect(resnetImportStage.run(ctx)).rejects.toThrow(/does not match ResNet config "resnet18"/);
  });
});
