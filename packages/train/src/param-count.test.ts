import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@lw/models';
import { builtTrainableCount, trainableCount } from './param-count.js';

describe('CLIP-HBA trainable parameter count', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });
  it('is 183,040 for the study config (method §1.2: 2 x 66,560 + 49,920, as the logs print)', () => {
    expect(trainableCount('clip-vit-l14')).toBe(183040);
    expect(2 * (1024 + 32 * 1024 + 1024 * 32) + (768 + 2 * 32 * 768)).toBe(183040);
  });
  it('matches the variables of a built CLIP-HBA for the small configs', () => {
    // tiny-clip: 2 vision DoRA layers of width 64 and 1 text layer of width 64, rank 8
    expect(trainableCount('tiny-clip')).toBe(3 * (64 + 2 * 8 * 64));
    expect(builtTrainableCount('tiny-clip', new Int32Array(66 * 24).map((_, i) => (i % 24 === 0 ? 1 : i % 24 === 1 ? 511 : 0)))).toBe(trainableCount('tiny-clip'));
    expect(builtTrainableCount('test-clip', new Int32Array(66 * 6).map((_, i) => (i % 6 === 0 ? 1 : i % 6 === 1 ? 19 : 0)))).toBe(trainableCount('test-clip'));
  });
});
