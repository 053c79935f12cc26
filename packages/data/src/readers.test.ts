import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@lw/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { centreCropBox, randomResizedCropBox, roundHalfEven } from './augment.js';
import { batches, type Batch } from './batches.js';
import { loadSplit, openDataset, type Dataset } from './dataset.js';
import { generateToy } from './toy/generate.js';

const tmp = mkdtempSync(join(tmpdir(), 'lw-readers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function collect(it: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe('openDataset / loadSplit / batches on the toy set', () => {
  let ds: Dataset;
  beforeAll(() => {
    generateToy({ images: 248, size: 16 }, tmp);
    ds = openDataset(tmp);
  });

  it('opens splits, prompts, vocabulary and the human RDM', () => {
    expect(ds.split('train').count).toBe(160);
    expect(ds.split('val').ids).toHaveLength(40);
    expect(ds.prompts).toHaveLength(66);
    expect(ds.vocab!.length).toBeGreaterThan(50);
    expect(ds.humanRdm!.ids).toEqual(ds.split('test').ids);
  });

  it('loads a split normalised with the manifest constants, in stored (RDM) order', () => {
    const test = loadSplit(ds, 'test');
    expect(test.shape).toEqual([48, 16, 16, 3]);
    expect(test.ids).toEqual(ds.humanRdm!.ids);
    const raw = ds.split('test').rows().images.data;
    const { mean, std } = ds.manifest.normalization;
    for (const i of [0, 1, 2, 700, 36863]) expect(test.images[i]).toBeCloseTo((raw[i] / 255 - mean[i % 3]) / std[i % 3], 5);
    expect(test.targets).toHaveLength(48 * 66);
  });

  it('serves every row once per epoch, in an order that is a pure function of (seed, epoch)', async () => {
    const opts = { batchSize: 64, seed: 3, epoch: 5, shuffle: true };
    const a = await collect(batches(ds, 'train', opts));
    expect(a.map((b) => b.ids.length)).toEqual([64, 64, 32]);
    const rows = a.flatMap((b) => [...b.rows]);
    expect([...rows].sort((x, y) => x - y)).toEqual([...Array(160).keys()]);
    expect(rows).toEqual([...new Rng(3, 'shuffle', 5).permutation(160)]);
    const again = await collect(batches(ds, 'train', opts));
    expect(again.flatMap((b) => b.ids)).toEqual(a.flatMap((b) => b.ids));
    const other = await collect(batches(ds, 'train', { ...opts, epoch: 6 }));
    expect(other.flatMap((b) => b.ids)).not.toEqual(a.flatMap((b) => b.ids));
    // targets and labels travel with their images
    const split = ds.split('train');
    const b = a[1];
    expect([...b.targets!.subarray(66 * 3, 66 * 4)]).toEqual([...split.targets!.subarray(b.rows[3] * 66, b.rows[3] * 66 + 66)]);
    expect(b.labels![5]).toBe(split.labels![b.rows[5]]);
    expect(b.shape).toEqual([64, 16, 16, 3]);
  });

  it('keeps stored order without shuffle and can drop the last batch', async () => {
    const v = await collect(batches(ds, 'val', { batchSize: 16, seed: 1, epoch: 0, shuffle: false, dropLast: true }));
    expect(v.map((b) => b.ids.length)).toEqual([16, 16]);
    expect(v.flatMap((b) => b.ids)).toEqual(ds.split('val').ids.slice(0, 32));
  });

  it('augments deterministically per (seed, epoch, row)', async () => {
    const opts = { batchSize: 32, seed: 1, epoch: 2, shuffle: true, augment: 'imagenet-train' as const, size: 12 };
    const [a] = await collect(batches(ds, 'train', opts));
    const [b] = await collect(batches(ds, 'train', opts));
    expect(a.shape).toEqual([32, 12, 12, 3]);
    expect(b.images).toEqual(a.images);
    const [c] = await collect(batches(ds, 'train', { ...opts, epoch: 3 }));
    expect(c.images).not.toEqual(a.images);
    // the worker pool only splits the arithmetic: any worker count gives the same pixels
    const inline = await collect(batches(ds, 'train', { ...opts, workers: 0 }));
    const three = await collect(batches(ds, 'train', { ...opts, workers: 3 }));
    expect(inline[0].images).toEqual(a.images);
    expect(three.map((b) => b.images)).toEqual(inline.map((b) => b.images));
  });

  it('augment imagenet-val resamples the centre crop of each image', async () => {
    const [b] = await collect(batches(ds, 'test', { batchSize: 48, seed: 1, epoch: 0, shuffle: false, augment: 'imagenet-val', size: 14, workers: 0 }));
    // 16x16 stored -> Resize(16) is the identity, CenterCrop(14) takes rows/cols 1..14 exactly
    const raw = ds.split('test').rows().images.data;
    const { mean, std } = ds.manifest.normalization;
    for (const [y, x, c] of [[0, 0, 0], [5, 9, 1], [13, 13, 2]]) {
      expect(b.images[(y * 14 + x) * 3 + c]).toBeCloseTo((raw[((y + 1) * 16 + x + 1) * 3 + c] / 255 - mean[c]) / std[c], 4);
    }
  });
});

describe('torchvision transform parameters', () => {
  it('rounds halves to even like Python', () => {
    expect([0.5, 1.5, 2.5, -0.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, 2, 3]);
  });

  it('random-resized-crop boxes obey the scale and ratio ranges', () => {
    for (let s = 0; s < 500; s++) {
      const box = randomResizedCropBox(300, 400, new Rng(1, 'rrc', s));
      const area = box.width * box.height / (300 * 400);
      // rounding of w and h moves area and ratio slightly beyond the continuous bounds
      expect(area).toBeGreaterThan(0.075);
      expect(area).toBeLessThanOrEqual(1);
      expect(box.width / box.height).toBeGreaterThan(0.74);
      expect(box.width / box.height).toBeLessThan(1.35);
      expect(box.x + box.width).toBeLessThanOrEqual(400);
      expect(box.y + box.height).toBeLessThanOrEqual(300);
    }
  });

  it('falls back to a ratio-clamped centre crop after 10 failed attempts', () => {
    // 10x1000: any area >= 0.08 * 10000 needs a height >= 24, so every attempt fails.
    // torchvision: in_ratio 100 > 4/3, so h = 10, w = round(10 * 4/3) = 13, centred.
    expect(randomResizedCropBox(10, 1000, new Rng(1, 'x'))).toEqual({ x: 493, y: 0, width: 13, height: 10 });
    // 1000x10: w = 10, h = round(10 / 0.75) = 13
    expect(randomResizedCropBox(1000, 10, new Rng(1, 'x'))).toEqual({ x: 0, y: 493, width: 10, height: 13 });
  });

  it('centre crop = Resize(256) + CenterCrop(224) in source pixels', () => {
    // 256x341 is already at short side 256: crop left = round((341 - 224) / 2) = round(58.5) = 58 (half to even)
    expect(centreCropBox(256, 341, 224)).toEqual({ x: 58, y: 16, width: 224, height: 224 });
    // 500x375 (portrait): resize to 341x256 (int(256 * 500 / 375) = 341), crop top 58, left 16, scaled back by 375/256
    const b = centreCropBox(500, 375, 224);
    expect(b.x).toBeCloseTo(16 * 375 / 256, 10);
    expect(b.y).toBeCloseTo(58 * 500 / 341, 10);
    expect(b.width).toBeCloseTo(224 * 375 / 256, 10);
    expect(b.height).toBeCloseTo(224 * 500 / 341, 10);
  });
});
