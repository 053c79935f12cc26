import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, modelConfig, tf, type VitConfig } from '@lw/models';
import { readFeaturesArrow, rsa } from '@lw/eval';
import { openTrainData } from '../open-data.js';
import { makeToy, stageContext, task, tempDir } from '../testing/fixtures.js';
import { TrainableParams } from '../trainable.js';
import { createClassifier, type Classifier } from './classifier.js';
import { createClassifyMeasures } from './epoch-measures.js';
import { crossEntropy } from './loop.js';
import { classifyParams } from './params.js';
import { classifyStage } from './stage.js';

/**
 * The classify measures on a seeded micro ViT (2 blocks) and 300 toy items: layer rows block0,
 * block1 and the output (metrics' RSA result itself); the Fisher trace equal to the mean of squared
 * gradient norms taken through TrainableParams.lossAndGrads (the training step's gradient path)
 * one item at a time.
 */
const vit: VitConfig = {
  kind: 'vit', name: 'micro-vit', numClasses: 8,
  vision: { layout: 'timm', imageSize: 16, patchSize: 4, width: 32, layers: 2, heads: 2, mlpWidth: 64, lnEps: 1e-6, activation: 'gelu' },
};

describe('train/classify measures (layers, fisher)', () => {
  let model: Classifier;
  const data = () => openTrainData(toyDir);
  let toyDir: string;
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    toyDir = makeToy({ images: 300, size: 16 }).dir;
    model = createClassifier(vit, { numClasses: 8, seed: 3 });
  });

  it('scores block0, block1 and the output; the output row is the given RSA result', async () => {
    const d = data();
    const test = d.loadSplit('test');
    const m = (await createClassifyMeasures({ layers: 'all', fisher: false, model, data: d, test, humanRdm: d.humanRdm!, classes: 8, batchSize: 32, scratch: tempDir(), crossEntropy }))!;
    const output = { rho: 0.123, p: 0.5, nPairs: 1128 };
    await m.afterEpoch(1, output);
    expect(m.layerRows!.map((r) => `${r.layer} ${r.layer_name}`)).toEqual(['0 block0', '1 block1', '2 output']);
    expect(m.layerRows![2]!.rsa_rho).toBe(0.123);
    // block1: the CLS token after the last block, from a plain forward of the whole split at once
    const H = 16;
    const cls = tf.tidy(() => model.layerFeatures(tf.tensor4d(test.images, [test.count, H, H, 3]))[1]!.features);
    const f = (await cls.data()) as Float32Array;
    cls.dispose();
    expect(m.layerRows![1]!.rsa_rho).toBeCloseTo(rsa(f, test.count, f.length / test.count, d.humanRdm!).rho, 6);
    expect(m.fisherRows).toBeNull();
  });

  it('Fisher trace = mean over the first N training items of the squared gradient norm of their cross-entropy', async () => {
    const d = data();
    const m = (await createClassifyMeasures({ layers: 'none', fisher: { probe: 4 }, model, data: d, test: d.loadSplit('test'), humanRdm: d.humanRdm!, classes: 8, batchSize: 32, scratch: tempDir(), crossEntropy }))!;
    const before = tf.memory().numTensors;
    await m.afterEpoch(1, { rho: 0, p: 1, nPairs: 1128 });
    expect(tf.memory().numTensors).toBe(before);
    const train = d.loadSplit('train');
    const weights = await TrainableParams.from(model.variables);
    let sum = 0;
    for (let i = 0; i < 4; i++) {
      const { grads } = await weights.lossAndGrads(() => crossEntropy(model.forward(tf.tensor4d(train.images.subarray(i * 768, (i + 1) * 768), [1, 16, 16, 3])).logits, train.labels!.subarray(i, i + 1), 8));
      for (const g of grads.values()) for (const v of g) sum += v * v;
    }
    expect(m.fisherRows).toHaveLength(1);
    expect(m.fisherRows![0]!.fisher_probe).toBe(4);
    expect(m.fisherRows![0]!.fisher_trace).toBeGreaterThan(0);
    expect(Math.abs(m.fisherRows![0]!.fisher_trace - sum / 4) / (sum / 4)).toBeLessThan(1e-5);
  });

  it('a ResNet: stages layer1..layer3 and the output (layer4 pooled); the Fisher trace leaves its running statistics alone', async () => {
    const d = data();
    const net = createClassifier(modelConfig('tiny-resnet', { numClasses: 8 }), { numClasses: 8, seed: 3 });
    const stats = async () => Promise.all([...net.state.values()].map(async (v) => Array.from(await v.data())));
    const before = await stats();
    const scratch = tempDir();
    const m = (await createClassifyMeasures({ layers: 'all', fisher: { probe: 4 }, layerFeatures: true, model: net, data: d, test: d.loadSplit('test'), humanRdm: d.humanRdm!, classes: 8, batchSize: 32, scratch, crossEntropy }))!;
    await m.afterEpoch(1, { rho: 0.5, p: 0.01, nPairs: 1128 });
    expect(m.layerRows!.map((r) => `${r.layer} ${r.layer_name}`)).toEqual(['0 layer1', '1 layer2', '2 layer3', '3 output']);
    // layerFeatures: each stage's pooled features as scored, for CKA between stages afterwards.
    for (const row of m.layerRows!.slice(0, 3)) {
      const f = readFeaturesArrow(join(scratch, 'layer_features', 'epoch1', `${row.layer_name}.arrow`));
      expect(rsa(f.features, f.n, f.d, d.humanRdm!).rho).toBe(row.rsa_rho);
    }
    expect(m.fisherRows![0]!.fisher_trace).toBeGreaterThan(0);
    expect(await stats()).toEqual(before);
    net.dispose();
  });

  it('rejects a probe larger than the training split', async () => {
    const d = data();
    await expect(createClassifyMeasures({ layers: 'none', fisher: { probe: 100000 }, model, data: d, test: d.loadSplit('test'), humanRdm: d.humanRdm!, classes: 8, batchSize: 32, scratch: tempDir(), crossEntropy }))
      .rejects.toThrow(/params\.fisher\.probe = 100000/);
  });

  it('train/classify with layers and fisher: layer_rsa (output == metrics rsa_rho) and epoch_measures per epoch; a measurement writes its one epoch', async () => {
    const toy = task(toyDir, 'data/toy');
    const run = async (extra: Record<string, unknown>, resume?: ReturnType<typeof task>) => {
      const p = classifyParams.parse({ model: vit, epochs: 2, warmupEpochs: 1, batchSize: 64, lr: 0.01, optimizer: 'adamw', augment: 'none', layers: 'all', fisher: { probe: 4 }, backend: 'cpu', ...extra });
      const ctx = stageContext(p, { data: toy, ...(resume ? { resume } : {}) });
      await classifyStage.run(ctx);
      const csv = (f: string) => readFileSync(join(ctx.outDir, f), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
      return { ctx, metrics: csv('metrics.csv'), layers: csv('layer_rsa.csv'), fisher: csv('epoch_measures.csv') };
    };
    const base = await run({});
    expect(base.layers.map((r) => r.slice(0, 3).join(' '))).toEqual(['1 0 block0', '1 1 block1', '1 2 output', '2 0 block0', '2 1 block1', '2 2 output']);
    // metrics columns: epoch, train_loss, val_loss, val_acc, rsa_rho, rsa_p_value
    expect(base.layers.filter((r) => r[2] === 'output').map((r) => r.slice(3))).toEqual(base.metrics.map((r) => r.slice(4, 6)));
    expect(base.fisher.map((r) => [r[0], r[2]])).toEqual([['1', '4'], ['2', '4']]);
    const m = await run({ perturb: { type: 'gaussian', start: 2, length: 1, seed: 42 } }, task(base.ctx.outDir, 'train/classify', {}, 1));
    expect(m.layers.map((r) => r[0])).toEqual(['2', '2', '2']);
    expect(m.fisher.map((r) => r[0])).toEqual(['2']);
  });
});
