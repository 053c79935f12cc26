import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createClip, initBackend, modelConfig, readSafetensors, tf, type ClipConfig } from '@lw/models';
import { loadSavedClip, saveClip } from '../model-store.js';
import { readTensorFile } from '../tensor-file.js';
import { stageContext, tempDir } from '../testing/fixtures.js';
import { clipImportParams, clipImportStage, TOKENIZER_DIR } from './stage.js';

/** fixtures/zoo of @lw/models (make.py): tiny random CLIPs saved by transformers 5.17, with its features. */
const zoo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'models', 'fixtures', 'zoo');

/** A hand-made BPE vocabulary (as in @lw/models' tokenizers test): `size` symbols, no merges beyond two. */
function bpeTokenizer(size = 19): string {
  const dir = tempDir('lw-bpe-');
  const vocab: Record<string, number> = { h: 0, e: 1, he: 2, '<|startoftext|>': 3, '<|endoftext|>': 4 };
  for (let i = Object.keys(vocab).length; i < size; i++) vocab[`t${i}</w>`] = i;
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(join(dir, 'merges.txt'), ['#version: 0.2', 'h e'].join('\n'));
  return dir;
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

const run = async (params: Record<string, unknown>) => {
  await initBackend({ backend: 'cpu' });
  const ctx = stageContext(clipImportParams.parse({ backend: 'cpu', ...params }), {});
  return { ctx, result: await clipImportStage.run(ctx) };
};

describe('train/clip-import', () => {
  it('config auto: a Hugging Face folder by its config.json, saved so that the forward is transformers\'', async () => {
    const { ctx, result } = await run({ checkpoint: join(zoo, 'hf-clip'), tokenizer: bpeTokenizer() });
    expect(result).toEqual({ config: 'hf-clip', layout: 'hf-clip', configSource: join(zoo, 'hf-clip', 'config.json'), backend: 'cpu' });
    expect(readdirSync(join(ctx.outDir, TOKENIZER_DIR)).sort()).toEqual(['merges.txt', 'vocab.json']);
    const saved = JSON.parse(readFileSync(join(ctx.outDir, 'config.json'), 'utf8')) as ClipConfig;
    expect(saved.text).toMatchObject({ activation: 'gelu', lnEps: 1e-3, mlpWidth: 80, vocabSize: 64 });
    expect(saved.vision).toMatchObject({ activation: 'gelu', lnEps: 1e-6, mlpWidth: 48 });
    const clip = loadSavedClip(ctx.outDir);
    const expected = readSafetensors(join(zoo, 'hf-clip', 'expected.safetensors'));
    const tokens = expected.read('tokens').data as Int32Array;
    const text = tf.tidy(() => clip.encodeText(tokens).dataSync());
    expect(maxAbs(text, expected.readFloat32('text_features'))).toBeLessThan(1e-4);
    expected.close();
    clip.dispose();
    expect(ctx.lines.join('\n')).toMatch(/hf-clip layout, config from .*config\.json/);
  });

  it('OpenCLIP folder with auto; a bare state dict with the heads given; both record their layout', async () => {
    const tokenizer = bpeTokenizer();
    expect((await run({ checkpoint: join(zoo, 'openclip'), tokenizer })).result).toMatchObject({ layout: 'openclip', configSource: join(zoo, 'openclip', 'open_clip_config.json') });
    const dir = tempDir('lw-bare-');
    copyFileSync(join(zoo, 'openclip', 'open_clip_model.safetensors'), join(dir, 'ViT-tiny.safetensors'));
    const file = join(dir, 'ViT-tiny.safetensors');
    const { ctx, result } = await run({ checkpoint: file, visionHeads: 4, textHeads: 2, tokenizer });
    expect(result).toEqual({ config: 'ViT-tiny', layout: 'openai-clip', configSource: `tensor shapes of ${file}`, backend: 'cpu' });
    expect(loadSavedClip(ctx.outDir).config.vision).toMatchObject({ heads: 4, activation: 'quick_gelu' });
    await expect(run({ checkpoint: file, tokenizer })).rejects.toThrow(/width 32 is not a multiple of 64/);
  });

  it('a named config is checked against the weights: the first bad key comes first', async () => {
    const err = await run({ checkpoint: join(zoo, 'hf-clip'), config: 'tiny-clip-bpe', tokenizer: bpeTokenizer() }).catch((e: Error) => e);
    expect((err as Error).message.split('\n')[0]).toMatch(/model\.safetensors \(hf-clip layout\) does not match the model config: ill-shaped vision_model\.embeddings\.patch_embedding\.weight: \[32,3,8,8\], expected \[64,3,4,4\]$/);
    await expect(run({ checkpoint: join(zoo, 'hf-clip'), config: 'resnet18' })).rejects.toThrow(/"resnet18" is a resnet config/);
    // Same shapes, other activation: only the checkpoint's own config can tell.
    const dir = tempDir('lw-named-');
    const clip = createClip(modelConfig('test-clip') as ClipConfig, { seed: 1 });
    saveClip(dir, clip);
    clip.dispose();
    const saved = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as ClipConfig;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...saved, text: { ...saved.text, activation: 'gelu' } }));
    await expect(run({ checkpoint: dir, config: 'test-clip' })).rejects.toThrow(`params.config "test-clip" has text.activation "quick_gelu", but ${join(dir, 'config.json')} gives "gelu"`);
    expect((await run({ checkpoint: dir })).result).toMatchObject({ layout: 'lw' });
  });

  it('a saved model task (own config.json) under auto or its name, with the same weights', async () => {
    const src = tempDir();
    const clip = createClip(modelConfig('test-clip') as ClipConfig, { seed: 9 });
    saveClip(src, clip);
    clip.dispose();
    for (const config of ['auto', 'test-clip']) {
      const { ctx, result } = await run({ checkpoint: join(src, 'model.safetensors'), config });
      expect(result).toMatchObject({ config: 'test-clip', layout: 'lw' });
      const a = readTensorFile(join(src, 'model.safetensors')).tensors, b = readTensorFile(join(ctx.outDir, 'model.safetensors')).tensors;
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
      for (const [k, t] of a) expect(b.get(k)!.data).toEqual(t.data);
      // The word-tokenizer config takes its tokenizer from the data set: none is copied.
      expect(existsSync(join(ctx.outDir, TOKENIZER_DIR))).toBe(false);
    }
    expect(clipImportStage.externalPaths!(clipImportParams.parse({ checkpoint: '/x.safetensors' }))).toEqual(['/x.safetensors']);
  });

  it('BPE checkpoints need a tokenizer that fits the text tower', async () => {
    await expect(run({ checkpoint: join(zoo, 'hf-clip') })).rejects.toThrow(`no tokenizer files in ${join(zoo, 'hf-clip')}`);
    await expect(run({ checkpoint: join(zoo, 'hf-clip'), tokenizer: bpeTokenizer(70) })).rejects.toThrow(/has 70 tokens, but the text tower of hf-clip embeds 64/);
    await expect(run({ checkpoint: '/nonexistent/model.safetensors' })).rejects.toThrow(/nonexistent/);
  });
});
