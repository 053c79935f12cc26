import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClip, initBackend, modelConfig, type ClipConfig } from '@lw/models';
import { loadSavedClip, saveClip } from '../model-store.js';
import { readTensorFile } from '../tensor-file.js';
import { stageContext, tempDir } from '../testing/fixtures.js';
import { clipImportParams, clipImportStage } from './stage.js';

describe('train/clip-import', () => {
  it('turns an OpenAI-layout checkpoint into a model task with the same weights', async () => {
    await initBackend({ backend: 'cpu' });
    const src = tempDir();
    const clip = createClip(modelConfig('test-clip') as ClipConfig, { seed: 9 });
    saveClip(src, clip);
    clip.dispose();
    const ctx = stageContext(clipImportParams.parse({ checkpoint: join(src, 'model.safetensors'), config: 'test-clip', backend: 'cpu' }), {});
    await clipImportStage.run(ctx);
    const a = readTensorFile(join(src, 'model.safetensors')).tensors, b = readTensorFile(join(ctx.outDir, 'model.safetensors')).tensors;
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [k, t] of a) expect(b.get(k)!.data).toEqual(t.data);
    const back = loadSavedClip(ctx.outDir);
    expect(back.config.name).toBe('test-clip');
    back.dispose();
    expect(clipImportStage.externalPaths!(clipImportParams.parse({ checkpoint: '/x.safetensors' }))).toEqual(['/x.safetensors']);
  });
  it('needs tokenizer files for a BPE config', async () => {
    const ctx = stageContext(clipImportParams.parse({ checkpoint: '/nonexistent/model.safetensors', config: 'clip-vit-l14', backend: 'cpu' }), {});
    await expect(clipImportStage.run(ctx)).rejects.toThrow(/nonexistent/);
  });
});
