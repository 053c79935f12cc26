import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  createResnet, loadResnet, modelConfig, readSafetensors, resnetConfigFromWeights, resnetSpecs, tf, type ResnetConfig,
} from './index.js';

/**
 * Against the fixtures/zoo references made with torchvision 0.26 and timm 1.0.29 (make.py): widths
 * 8-16-32-64, layers [2,1,1,1], 64-px images, 10 classes, random BatchNorm affine and running statistics.
 */
const zoo = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'zoo');
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

function fixture(name: string) {
  const weights = readSafetensors(join(zoo, name, 'model.safetensors'));
  const config = resnetConfigFromWeights(weights, { name, imageSize: 64 });
  weights.close();
  const expected = readSafetensors(join(zoo, name, 'expected.safetensors'));
  const exp = (k: string) => expected.readFloat32(k);
  const images = tf.tensor4d(exp('images'), expected.entries.get('images')!.shape as [number, number, number, number]);
  return { config, expected, exp, images };
}

for (const name of ['resnet18-tv', 'resnet50-tv', 'resnet18-timm']) {
  describe(`ResNet vs ${name}`, () => {
    const { config, expected, exp, images } = fixture(name);

    it('reads the architecture from the weights', () => {
      expect(config).toMatchObject({
        block: name.startsWith('resnet50') ? 'bottleneck' : 'basic',
        // timm's own resnet18 keeps [2, 2, 2, 2]; the torchvision fixtures were built with [2, 1, 1, 1]
        layers: name.endsWith('timm') ? [2, 2, 2, 2] : [2, 1, 1, 1], widths: [8, 16, 32, 64], numClasses: 10,
        // timm 1.0.29 ignores stem_width without a deep stem: conv1 keeps 64 channels
        stemWidth: name.endsWith('timm') ? 64 : 8,
      });
    });

    it('eval forward: logits, pooled features and every stage within 1e-4', () => {
      const model = loadResnet(config, join(zoo, name));
      const out = model.forward(images, { stagePooled: true });
      expect(maxAbs(out.logits.dataSync(), exp('eval_logits'))).toBeLessThan(1e-4);
      expect(maxAbs(out.features.dataSync(), exp('eval_pooled'))).toBeLessThan(1e-4);
      expect(out.stagePooled).toHaveLength(4);
      for (let s = 1; s <= 4; s++) {
        if (!expected.entries.has(`eval_stage${s}`)) continue;
        expect(maxAbs(out.stagePooled![s - 1].dataSync(), exp(`eval_stage${s}`)), `stage ${s}`).toBeLessThan(1e-4);
      }
      // eval leaves the running statistics alone
      expect(maxAbs(model.state.get('bn1.running_mean')!.dataSync(), readSafetensors(join(zoo, name, 'model.safetensors')).readFloat32('bn1.running_mean'))).toBe(0);
      model.dispose();
    });

    it('train forward: batch statistics, and the running statistics PyTorch keeps after it', () => {
      const model = loadResnet(config, join(zoo, name));
      const logits = model.forward(images, { training: true }).logits;
      expect(maxAbs(logits.dataSync(), exp('train_logits'))).toBeLessThan(1e-4);
      // the two differ by far more than the tolerance: the test tells train from eval mode
      expect(maxAbs(exp('train_logits'), exp('eval_logits'))).toBeGreaterThan(1e-2);
      for (const [key, ref] of [['bn1.running_mean', 'bn1_running_mean'], ['bn1.running_var', 'bn1_running_var'],
        ['layer1.0.bn1.running_mean', 'layer1_0_bn1_running_mean'], ['layer1.0.bn1.running_var', 'layer1_0_bn1_running_var']]) {
        if (!expected.entries.has(ref)) continue;
        expect(maxAbs(model.state.get(key)!.dataSync(), exp(ref)), key).toBeLessThan(1e-5);
      }
      model.dispose();
    });
  });
}

describe('ResNet configs and init', () => {
  it('resnet18 and resnet50 have torchvision\'s parameter counts (11,689,512 and 25,557,032)', () => {
    const count = (c: ResnetConfig) => [...resnetSpecs(c).params.values()].reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
    expect(count(modelConfig('resnet18'))).toBe(11689512);
    expect(count(modelConfig('resnet50'))).toBe(25557032);
  });

  it('initialises as torchvision: kaiming fan_out convs, BN 1/0, running stats 0/1; gradients reach every weight', () => {
    const model = createResnet(modelConfig('tiny-resnet', { numClasses: 5 }), { seed: 3 });
    const w = model.params.get('layer2.0.conv2.weight').dataSync(); // [3, 3, 32, 32]: fan_out 288
    const std = Math.sqrt(w.reduce((a, v) => a + v * v, 0) / w.length);
    expect(Math.abs(std - Math.sqrt(2 / 288))).toBeLessThan(0.005);
    expect(model.params.get('bn1.weight').dataSync().every((v) => v === 1)).toBe(true);
    expect(model.state.get('layer1.0.bn2.running_var')!.dataSync().every((v) => v === 1)).toBe(true);
    const x = tf.randomNormal([4, 16, 16, 3]) as tf.Tensor4D;
    const { grads } = tf.variableGrads(() => tf.mean(tf.square(model.forward(x, { training: true }).logits)) as tf.Scalar, [...model.variables.values()]);
    expect(Object.keys(grads)).toHaveLength(model.variables.size);
    for (const g of Object.values(grads)) expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
    // the training forward moved the running statistics (only state, never trainable)
    expect(model.state.get('bn1.running_mean')!.dataSync().some((v) => v !== 0)).toBe(true);
    expect([...model.variables.keys()].some((k) => k.includes('running'))).toBe(false);
    model.dispose();
  });

  it('names the first mismatch between config and checkpoint', () => {
    const wrong = { ...modelConfig('resnet18'), widths: [8, 16, 32, 64] as [number, number, number, number], numClasses: 10, stemWidth: 8, layers: [2, 2, 1, 1] as [number, number, number, number] };
    expect(() => loadResnet(wrong, join(zoo, 'resnet18-tv'))).toThrow(/missing \(\d+\): layer2\.1\.conv1\.weight/);
  });
});
