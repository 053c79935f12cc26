import { describe, expect, it } from 'vitest';
import { initBackend, modelConfig, tf, type VitConfig } from '@lw/models';
import { createClassifier } from './classifier.js';

const vit: VitConfig = {
  kind: 'vit', name: 'micro-vit', numClasses: 8,
  vision: { layout: 'timm', imageSize: 16, patchSize: 4, width: 24, layers: 3, heads: 2, mlpWidth: 48, lnEps: 1e-6, activation: 'gelu' },
};

describe('Classifier: ViT and ResNet behind one interface', () => {
  for (const config of [vit, modelConfig('tiny-resnet')]) {
    it(`${config.name}: logits [B, C], features [B, D], and layerFeatures whose last entry is features`, async () => {
      await initBackend({ backend: 'cpu' });
      const model = createClassifier(config, { numClasses: 5, seed: 3 });
      const images = tf.randomNormal([4, 16, 16, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
      const { logits, features } = model.forward(images);
      expect(logits.shape).toEqual([4, 5]);
      expect(features.shape).toEqual([4, model.featureWidth]);
      const layers = model.layerFeatures(images);
      expect(layers.map((l) => l.name)).toEqual(config.kind === 'vit' ? ['block0', 'block1', 'block2', 'norm'] : ['layer1', 'layer2', 'layer3', 'layer4']);
      for (const l of layers) expect(l.features.shape[0]).toBe(4);
      expect(Array.from(layers.at(-1)!.features.dataSync())).toEqual(Array.from(features.dataSync()));
      // the first layer is not the last (ViT: the same width, other values; ResNet: 16 vs 128 channels)
      expect(Array.from(layers[0].features.dataSync())).not.toEqual(Array.from(features.dataSync()));
      // tiny-resnet's BatchNorms: bn1, 2 per basic block x 4, 3 downsamples = 12, a running mean and variance each
      expect(model.state.size).toBe(config.kind === 'vit' ? 0 : 24);
      model.dispose();
    });
  }

  it('ResNet: training mode moves the running statistics, eval mode leaves them', async () => {
    await initBackend({ backend: 'cpu' });
    const model = createClassifier(modelConfig('tiny-resnet'), { numClasses: 5, seed: 3 });
    const images = tf.randomNormal([4, 16, 16, 3], 0.5, 1, 'float32', 7) as tf.Tensor4D;
    const before = Array.from(model.state.get('bn1.running_mean')!.dataSync());
    model.forward(images);
    expect(Array.from(model.state.get('bn1.running_mean')!.dataSync())).toEqual(before);
    model.forward(images, { training: true });
    expect(Array.from(model.state.get('bn1.running_mean')!.dataSync())).not.toEqual(before);
    model.dispose();
  });
});
