import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isUserError } from '@lw/core';
import {
  type Clip, type ClipConfig, eotPositions, findClipCheckpoint, loadClipCheckpoint, readSafetensors, tf, writeSafetensors, type TensorData,
} from './index.js';

/**
 * CLIP checkpoints read by their own config, against fixtures/zoo (make.py: transformers 5.17 CLIPModel with
 * random weights; exact GELU in both towers, text LayerNorm eps 1e-3, vision 1e-6, MLP widths 80 / 48 not 4x;
 * the OpenCLIP folder holds the same weights renamed into OpenAI names, its reference is transformers' forward
 * at OpenCLIP's eps 1e-5). The expected features are transformers' own outputs, not this code's.
 */
const zoo = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'zoo');
const TOL = 1e-4;

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** Image and text features of `clip` on a fixture's inputs, with the fixture's expected values. */
function features(clip: Clip, fixture: string) {
  const file = readSafetensors(join(zoo, fixture, 'expected.safetensors'));
  const expected = new Map(file.names().map((k) => [k, file.read(k)]));
  file.close();
  const exp = (k: string) => expected.get(k)!.data as Float32Array;
  const tokens = expected.get('tokens')!.data as Int32Array; // [3, 12]
  const image = tf.tidy(() => clip.encodeImage(tf.tensor4d(exp('images'), [3, 32, 32, 3])).dataSync());
  const text = tf.tidy(() => clip.encodeText(tokens).dataSync());
  return { image, text, tokens, exp };
}

function caught(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

const firstLine = (e: Error) => e.message.split('\n')[0];

/** A copy of a fixture folder in a temporary directory. */
function copyFixture(name: string, files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), `lw-${name}-`));
  for (const f of files) copyFileSync(join(zoo, name, f), join(dir, f));
  return dir;
}

describe('Hugging Face CLIPModel folder (zoo/hf-clip)', () => {
  it('reads config.json: exact GELU, eps 1e-3 / 1e-6, MLP 80 / 48, vocab 64, context 12, projection 16', () => {
    const found = findClipCheckpoint(join(zoo, 'hf-clip'));
    expect(found.layout).toBe('hf-clip');
    expect(found.configSource).toBe(join(zoo, 'hf-clip', 'config.json'));
    expect(found.file).toBe(join(zoo, 'hf-clip', 'model.safetensors'));
    expect(found.config).toMatchObject({
      kind: 'clip', name: 'hf-clip', embedDim: 16,
      vision: { layout: 'clip', imageSize: 32, patchSize: 8, width: 32, layers: 2, heads: 4, mlpWidth: 48, lnEps: 1e-6, activation: 'gelu' },
      text: { vocabSize: 64, contextLength: 12, width: 32, layers: 2, heads: 2, mlpWidth: 80, tokenizer: 'bpe', activation: 'gelu', lnEps: 1e-3 },
      dora: { visionBlocks: [0, 1], textBlocks: [1] },
    });
    // The weights file given directly finds the same config beside it.
    expect(findClipCheckpoint(join(zoo, 'hf-clip', 'model.safetensors')).config).toEqual(found.config);
  });

  it('forward equals transformers: image and text features, and every block', () => {
    const { clip } = loadClipCheckpoint(join(zoo, 'hf-clip'));
    const f = features(clip, 'hf-clip');
    expect(maxAbs(f.image, f.exp('image_features'))).toBeLessThan(TOL);
    expect(maxAbs(f.text, f.exp('text_features'))).toBeLessThan(TOL);
    const eot = eotPositions(f.tokens, 12);
    expect(Array.from(eot)).toEqual([4, 7, 11]);
    tf.tidy(() => {
      const images = tf.tensor4d(f.exp('images'), [3, 32, 32, 3]);
      const blocks = clip.visual.forward(images, { blockCls: true }).blockCls!; // per block [3, 32]
      blocks.forEach((b, i) => expect(maxAbs(b.dataSync(), f.exp(`vision_block${i}`)), `vision block ${i}`).toBeLessThan(TOL));
      for (let i = 0; i < 2; i++) {
        const out = clip.textBlockInput(f.tokens, i + 1); // output of block i: [3, L, 32]
        const rows = tf.concat([0, 1, 2].map((p) => tf.slice(out, [p, eot[p], 0], [1, 1, 32]).reshape([1, 32])));
        expect(maxAbs(rows.dataSync(), f.exp(`text_block${i}`)), `text block ${i}`).toBeLessThan(TOL);
      }
    });
    clip.dispose();
  });

  it('the old fixed text tower (QuickGELU, eps 1e-5) would be far off: the test can fail', () => {
    const own = findClipCheckpoint(join(zoo, 'hf-clip')).config;
    const cases: Array<[string, Partial<ClipConfig['text']>]> = [['quick_gelu', { activation: 'quick_gelu' }], ['eps 1e-5', { lnEps: 1e-5 }]];
    for (const [what, change] of cases) {
      const config: ClipConfig = { ...own, text: { ...own.text, ...change } };
      const { clip } = loadClipCheckpoint(join(zoo, 'hf-clip'), { config });
      const f = features(clip, 'hf-clip');
      expect(maxAbs(f.text, f.exp('text_features')), what).toBeGreaterThan(100 * TOL);
      expect(maxAbs(f.image, f.exp('image_features'))).toBeLessThan(TOL);
      clip.dispose();
    }
  });
});

describe('OpenCLIP folder (zoo/openclip)', () => {
  it('reads open_clip_config.json and matches the reference', () => {
    const { clip, found } = loadClipCheckpoint(join(zoo, 'openclip'));
    expect(found.layout).toBe('openclip');
    expect(found.configSource).toBe(join(zoo, 'openclip', 'open_clip_config.json'));
    expect(found.file).toBe(join(zoo, 'openclip', 'open_clip_model.safetensors'));
    expect(found.config).toMatchObject({
      name: 'openclip', embedDim: 16,
      vision: { imageSize: 32, patchSize: 8, width: 32, layers: 2, heads: 4, mlpWidth: 48, lnEps: 1e-5, activation: 'gelu' },
      text: { vocabSize: 64, contextLength: 12, width: 32, layers: 2, heads: 2, mlpWidth: 80, lnEps: 1e-5, activation: 'gelu' },
    });
    const f = features(clip, 'openclip');
    expect(maxAbs(f.image, f.exp('image_features'))).toBeLessThan(TOL);
    expect(maxAbs(f.text, f.exp('text_features'))).toBeLessThan(TOL);
    clip.dispose();
  });
});

describe('OpenAI state dict alone (.safetensors, no config)', () => {
  const dir = copyFixture('openclip', ['open_clip_model.safetensors']);
  const file = join(dir, 'open_clip_model.safetensors');

  it('reads the config from the tensor shapes, with the heads given', () => {
    const found = findClipCheckpoint(dir, { heads: { vision: 4, text: 2 } });
    expect(found.layout).toBe('openai-clip');
    expect(found.configSource).toBe(`tensor shapes of ${file}`);
    expect(found.config).toMatchObject({
      embedDim: 16,
      vision: { imageSize: 32, patchSize: 8, width: 32, layers: 2, heads: 4, mlpWidth: 48, lnEps: 1e-5, activation: 'quick_gelu' },
      text: { vocabSize: 64, contextLength: 12, width: 32, layers: 2, heads: 2, mlpWidth: 80, lnEps: 1e-5, activation: 'quick_gelu' },
    });
    expect(findClipCheckpoint(file, { heads: { vision: 4, text: 2 } }).config).toEqual(found.config);
    // The shapes give everything but the activation: OpenAI's QuickGELU is assumed; with the exact GELU these
    // weights were made with, the forward is the reference's.
    const config = { ...found.config, vision: { ...found.config.vision, activation: 'gelu' as const }, text: { ...found.config.text, activation: 'gelu' as const } };
    const { clip } = loadClipCheckpoint(file, { config });
    const f = features(clip, 'openclip');
    expect(maxAbs(f.image, f.exp('image_features'))).toBeLessThan(TOL);
    expect(maxAbs(f.text, f.exp('text_features'))).toBeLessThan(TOL);
    clip.dispose();
  });

  it('without heads, a width that is not a multiple of 64 is a UserError', () => {
    const e = caught(() => findClipCheckpoint(file));
    expect(isUserError(e)).toBe(true);
    expect(e.message).toMatch(/vision tower's width 32 is not a multiple of 64/);
  });
});

describe('checkpoint and config that do not match', () => {
  it('a config.json with another width: the first line names the first ill-shaped key', () => {
    const dir = copyFixture('hf-clip', ['model.safetensors']);
    const json = JSON.parse(readFileSync(join(zoo, 'hf-clip', 'config.json'), 'utf8'));
    json.vision_config.hidden_size = 48;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(json));
    const e = caught(() => loadClipCheckpoint(dir));
    expect(isUserError(e)).toBe(true);
    expect(firstLine(e)).toMatch(/does not match the model config: ill-shaped vision_model\.embeddings\.patch_embedding\.weight: \[32,3,8,8\], expected \[48,3,8,8\]$/);
  });

  it('a key deleted from the weights: the first line names it (file name and internal name)', () => {
    const dir = copyFixture('hf-clip', ['config.json']);
    const src = readSafetensors(join(zoo, 'hf-clip', 'model.safetensors'));
    const gone = 'text_model.encoder.layers.1.mlp.fc1.weight';
    const tensors: Record<string, TensorData> = {};
    for (const name of src.names()) if (name !== gone) tensors[name] = src.read(name);
    src.close();
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    const e = caught(() => loadClipCheckpoint(dir));
    expect(isUserError(e)).toBe(true);
    expect(firstLine(e)).toMatch(/: missing text_model\.encoder\.layers\.1\.mlp\.fc1\.weight \(transformer\.resblocks\.1\.mlp\.c_fc\.weight\)$/);
    expect(e.message).toMatch(/missing \(1\)/);
  });

  it('a named config checked against the weights: the first problem comes first', () => {
    const own = findClipCheckpoint(join(zoo, 'openclip')).config;
    const config: ClipConfig = { ...own, name: 'wrong', text: { ...own.text, mlpWidth: 64 } };
    const e = caught(() => loadClipCheckpoint(join(zoo, 'openclip'), { config }));
    expect(isUserError(e)).toBe(true);
    expect(firstLine(e)).toMatch(/ill-shaped transformer\.resblocks\.0\.mlp\.c_fc\.weight: \[80,32\], expected \[64,32\]$/);
  });
});

describe('timm ViTs are not CLIPs', () => {
  it('a timm folder (config.json with architecture) points at train/vit-import', () => {
    const e = caught(() => findClipCheckpoint(join(zoo, 'timm-vit')));
    expect(isUserError(e)).toBe(true);
    expect(e.message).toMatch(/timm model config \(architecture "vit_base_patch16_224"\), not a CLIP: import timm ViTs with train\/vit-import$/);
  });

  it('timm weights alone point at train/vit-import', () => {
    const dir = copyFixture('timm-vit', ['model.safetensors']);
    const e = caught(() => findClipCheckpoint(join(dir, 'model.safetensors')));
    expect(isUserError(e)).toBe(true);
    expect(e.message).toMatch(/is a timm ViT \(patch_embed\.proj\.weight\), not a CLIP: import timm ViTs with train\/vit-import$/);
  });
});
