import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runInspect } from './commands.js';
import { readSafetensors, resnetConfigFromWeights, vitConfigFromTimm } from './index.js';

/** `lw models inspect` on fixtures/zoo (make.py: transformers 5.17, timm 1.0.29, torchvision 0.26; random weights). */
const zoo = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'zoo');

function inspect(path: string, more: { visionHeads?: number; textHeads?: number } = {}) {
  const lines: string[] = [];
  const report = runInspect({ path, ...more }, (l) => lines.push(l));
  const json: string[] = [];
  runInspect({ path, ...more, json: true }, (l) => json.push(l));
  expect(json).toHaveLength(1);
  expect(JSON.parse(json[0])).toEqual(JSON.parse(JSON.stringify(report)));
  return { report, text: lines.join('\n') };
}

/** Scalars in a weights file, as PyTorch's sum(p.numel()) over the state dict counts them. */
function fileScalars(file: string, skip: RegExp = /\.position_ids$/): number {
  const st = readSafetensors(file);
  let n = 0;
  for (const [k, e] of st.entries) if (!skip.test(k)) n += e.shape.reduce((a, b) => a * b, 1);
  st.close();
  return n;
}

const tmp = (files: [string, string][]) => {
  const dir = mkdtempSync(join(tmpdir(), 'lw-inspect-'));
  for (const [from, to] of files) copyFileSync(join(zoo, from), join(dir, to));
  return dir;
};

describe('lw models inspect', () => {
  it('Hugging Face CLIP folder: layout, config source, both towers, parameters, weights match', () => {
    const { report, text } = inspect(join(zoo, 'hf-clip'));
    expect(report).toMatchObject({ kind: 'clip', layout: 'hf-clip', configSource: join(zoo, 'hf-clip', 'config.json'), match: { ok: true, missing: 0, unexpected: 0, misshaped: 0 } });
    expect(report.parameters).toBe(fileScalars(join(zoo, 'hf-clip', 'model.safetensors')));
    expect(text).toContain('layout         hf-clip (Hugging Face CLIPModel)');
    expect(text).toContain('image tower    32 px, patch 8, width 32, 2 layers, 4 heads, MLP 48, gelu, LayerNorm eps 1e-6');
    expect(text).toContain('text tower     width 32, 2 layers, 2 heads, MLP 80, gelu, LayerNorm eps 0.001, vocabulary 64, context 12, CLIP BPE tokenizer');
    expect(text).toContain('projection     16');
    expect(text).toContain('weights match  yes');
  });

  it('OpenCLIP folder, and its weights alone as an OpenAI state dict (heads given)', () => {
    const oc = inspect(join(zoo, 'openclip')).report;
    expect(oc).toMatchObject({ layout: 'openclip', match: { ok: true } });
    expect(oc.parameters).toBe(fileScalars(join(zoo, 'openclip', 'open_clip_model.safetensors')));
    const dir = tmp([['openclip/open_clip_model.safetensors', 'ViT-tiny.safetensors']]);
    const bare = inspect(join(dir, 'ViT-tiny.safetensors'), { visionHeads: 4, textHeads: 2 });
    expect(bare.report).toMatchObject({ layout: 'openai-clip', configSource: `tensor shapes of ${join(dir, 'ViT-tiny.safetensors')}`, parameters: oc.parameters, match: { ok: true } });
    expect(bare.text).toContain('quick_gelu');
    expect(() => runInspect({ path: dir }, () => {})).toThrow(/width 32 is not a multiple of 64/);
  });

  it('a config that does not fit its weights: counts and the first problem', () => {
    const dir = tmp([['hf-clip/model.safetensors', 'model.safetensors']]);
    const json = JSON.parse(readFileSync(join(zoo, 'hf-clip', 'config.json'), 'utf8'));
    json.text_config.intermediate_size = 64;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(json));
    const { report, text } = inspect(dir);
    // fc1 weight + bias and fc2 weight of both text blocks (fc2's bias is [width] either way).
    expect(report.match).toMatchObject({ ok: false, missing: 0, unexpected: 0, misshaped: 6 });
    expect(report.match.first).toBe('ill-shaped text_model.encoder.layers.0.mlp.fc1.weight: [80,32], expected [64,32]');
    expect(text).toContain('weights match  no: 0 missing, 0 unexpected, 6 mis-shaped; first: ill-shaped text_model.encoder.layers.0.mlp.fc1.weight');
  });

  it('timm ViT folder through the timm reader; its weights alone: a clear message', () => {
    const { report, text } = inspect(join(zoo, 'timm-vit'));
    expect(report).toMatchObject({ kind: 'vit', layout: 'timm', configSource: join(zoo, 'timm-vit', 'config.json'), match: { ok: true } });
    expect(report.parameters).toBe(fileScalars(join(zoo, 'timm-vit', 'model.safetensors')));
    expect(text).toContain('image tower    32 px, patch 8, width 32, 2 layers, 4 heads, MLP 64, gelu, LayerNorm eps 1e-6');
    expect(text).toContain('classes        10');
    const dir = tmp([['timm-vit/model.safetensors', 'model.safetensors']]);
    expect(() => runInspect({ path: dir }, () => {})).toThrow(/is a timm ViT \(patch_embed\.proj\.weight\) with no config\.json beside it/);
  });

  for (const [name, block, layers] of [['resnet18-tv', 'basic', [2, 1, 1, 1]], ['resnet50-tv', 'bottleneck', [2, 1, 1, 1]], ['resnet18-timm', 'basic', [2, 2, 2, 2]]] as const) {
    it(`ResNet ${name}: the architecture read from the weights`, () => {
      const { report, text } = inspect(join(zoo, name));
      expect(report).toMatchObject({ kind: 'resnet', layout: 'resnet', config: { block, layers, widths: [8, 16, 32, 64], numClasses: 10 }, match: { ok: true } });
      // Trainable weights only: the file also holds running means / variances and num_batches_tracked.
      expect(report.parameters).toBe(fileScalars(join(zoo, name, 'model.safetensors'), /\.(running_mean|running_var|num_batches_tracked)$/));
      expect(text).toContain(`blocks         ${block}, layers ${layers.join('-')}, widths 8-16-32-64`);
    });
  }

  it('a model task of this tool (our config.json beside the weights): layout lw, its own config', () => {
    const vit = tmp([['timm-vit/model.safetensors', 'model.safetensors']]);
    const vitConfig = vitConfigFromTimm(JSON.parse(readFileSync(join(zoo, 'timm-vit', 'config.json'), 'utf8'))).config;
    writeFileSync(join(vit, 'config.json'), JSON.stringify({ ...vitConfig, name: 'my-vit' }));
    expect(inspect(vit).report).toMatchObject({ kind: 'vit', layout: 'lw', configSource: join(vit, 'config.json'), config: { name: 'my-vit' }, match: { ok: true } });
    const res = tmp([['resnet18-tv/model.safetensors', 'model.safetensors']]);
    const st = readSafetensors(join(res, 'model.safetensors'));
    const resConfig = resnetConfigFromWeights(st, { name: 'my-resnet', imageSize: 64 });
    st.close();
    writeFileSync(join(res, 'config.json'), JSON.stringify({ ...resConfig, numClasses: 7 }));
    expect(inspect(res).report).toMatchObject({ kind: 'resnet', layout: 'lw', config: { name: 'my-resnet', imageSize: 64 }, match: { ok: false, misshaped: 2, first: 'ill-shaped fc.weight: [10,64], expected [7,64]' } });
  });

  it('a path that is not a checkpoint', () => {
    expect(() => runInspect({ path: '/nonexistent/x' }, () => {})).toThrow(/cannot read checkpoint \/nonexistent\/x/);
    expect(() => runInspect({ path: join(zoo, 'make.py') }, () => {})).toThrow(/is not a \.safetensors file/);
  });
});
