import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadVit } from './checkpoint.js';
import { readSafetensors } from './safetensors.js';
import { tf } from './tf.js';
import { vitConfigFromTimm } from './timm-config.js';

const zoo = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'zoo');
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('timm hub config.json -> VitConfig', () => {
  it('reads the timm-vit fixture (vit_base_patch16_224 with model_args) and the weights load and match timm', () => {
    const path = join(zoo, 'timm-vit', 'config.json');
    const info = vitConfigFromTimm(JSON.parse(readFileSync(path, 'utf8')), { source: path });
    // make.py: img_size 32, patch 8, embed 32, depth 2, heads 4, mlp_ratio 2, 10 classes
    expect(info.config).toEqual({
      kind: 'vit', name: 'vit_base_patch16_224', numClasses: 10,
      vision: { layout: 'timm', imageSize: 32, patchSize: 8, width: 32, layers: 2, heads: 4, mlpWidth: 64, lnEps: 1e-6, activation: 'gelu' },
    });
    expect(info).toMatchObject({ mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    const vit = loadVit(info.config, join(zoo, 'timm-vit'), { trainable: false });
    const expected = readSafetensors(join(zoo, 'timm-vit', 'expected.safetensors'));
    const images = tf.tensor4d(expected.readFloat32('images'), expected.entries.get('images')!.shape as [number, number, number, number]);
    const out = vit.forward(images);
    expect(maxAbs(out.logits.dataSync(), expected.readFloat32('logits'))).toBeLessThan(1e-4);
    expect(maxAbs(out.features.dataSync(), expected.readFloat32('pre_logits'))).toBeLessThan(1e-4);
    vit.dispose();
  });

  it('takes the named sizes from the architecture when model_args is absent', () => {
    expect(vitConfigFromTimm({ architecture: 'vit_small_patch16_384', num_classes: 21843, pretrained_cfg: { tag: 'augreg_in21k' } }).config).toEqual({
      kind: 'vit', name: 'vit_small_patch16_384.augreg_in21k', numClasses: 21843,
      vision: { layout: 'timm', imageSize: 384, patchSize: 16, width: 384, layers: 12, heads: 6, mlpWidth: 1536, lnEps: 1e-6, activation: 'gelu' },
    });
    expect(vitConfigFromTimm({ architecture: 'vit_large_patch14_224' }).config.vision).toMatchObject({ width: 1024, layers: 24, heads: 16, patchSize: 14, imageSize: 224 });
    expect(vitConfigFromTimm({ architecture: 'vit_base_patch16_224' }).config.numClasses).toBe(1000);
  });

  it('refuses what the plain ViT does not implement, naming it', () => {
    expect(() => vitConfigFromTimm({ architecture: 'vit_base_patch16_clip_224' }, { source: 'x/config.json' })).toThrow(/x\/config\.json: architecture "vit_base_patch16_clip_224" is not a plain timm ViT/);
    expect(() => vitConfigFromTimm({ architecture: 'vit_base_patch16_224', model_args: { global_pool: 'avg' } })).toThrow(/model_args\.global_pool is not supported/);
    expect(() => vitConfigFromTimm({ architecture: 'vit_base_patch16_224', model_args: { reg_tokens: 4 } })).toThrow(/model_args\.reg_tokens/);
    expect(() => vitConfigFromTimm({ architecture: 'vit_base_patch16_224', model_args: { weight_init: 'jax' } })).toThrow(/model_args\.weight_init is not supported/);
    expect(() => vitConfigFromTimm({ architecture: 'vit_base_patch16_224', model_args: { img_size: 30 } })).toThrow(/imageSize must be a multiple of patchSize/);
    expect(() => vitConfigFromTimm({ num_classes: 3 })).toThrow(/field "architecture"/);
  });
});
