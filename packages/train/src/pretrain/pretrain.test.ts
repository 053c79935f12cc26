import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSavedClip } from '../model-store.js';
import { makeToy, stageContext } from '../testing/fixtures.js';
import { pretrainParams, pretrainStage } from './stage.js';

describe('train/clip-pretrain', () => {
  it('lowers the contrastive loss below chance and saves a loadable CLIP', async () => {
    const data = makeToy({ images: 300, size: 8 });
    const ctx = stageContext(pretrainParams.parse({ model: 'test-clip', epochs: 35, lr: 3e-3, weightDecay: 0, backend: 'wasm' }), { data });
    const summary = await pretrainStage.run(ctx);
    const rows = readFileSync(join(ctx.outDir, 'metrics.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    expect(rows.length).toBe(35);
    const chance = Math.log(51); // the 51 validation pairs form one batch
    const [firstVal, lastVal] = [rows[0][2], rows[34][2]];
    // A random CLIP sits at chance (ln 51 = 3.93) on held-out pairs; after training, matched pairs
    // must be clearly more likely than unmatched ones: 0.25 nats below chance and below epoch 1.
    // (The micro config plateaus near chance for ~20 epochs before it learns; it reaches ~3.5.)
    expect(firstVal).toBeGreaterThan(chance - 0.1);
    expect(lastVal).toBeLessThan(chance - 0.25);
    expect(lastVal).toBeLessThan(firstVal - 0.25);
    expect(rows[34][1]).toBeLessThan(rows[0][1]);
    expect(summary.epochs).toBe(35);
    const clip = loadSavedClip(ctx.outDir);
    expect(clip.config.name).toBe('test-clip');
    clip.dispose();
  });
});
