import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { batches } from '../batches.js';
import { openDataset } from '../dataset.js';
import { convertImagenet } from './convert.js';

const tmp = mkdtempSync(join(tmpdir(), 'lw-imagenet-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SYNSETS = ['n01440764', 'n01443537', 'n02085620']; // sorted: labels 0, 1, 2
const COLOURS = [[200, 30, 30], [30, 200, 30], [30, 30, 200]];
const TRAIN_SIZES = [[20, 30], [30, 20], [24, 24], [40, 18]]; // [width, height]
/** val image k (1-based) belongs to class VAL_CLASS[k - 1] */
const VAL_CLASS = [2, 0, 1, 1, 0, 2];

async function jpeg(path: string, w: number, h: number, [r, g, b]: number[]) {
  await sharp({ create: { width: w, height: h, channels: 3, background: { r, g, b } } }).jpeg({ quality: 95 }).toFile(path);
}

/** A miniature ILSVRC-2012 tree with one corrupt training file, val in the given layout. */
async function makeTree(layout: 'class-folders' | 'loc-csv' | 'devkit'): Promise<string> {
  const root = join(tmp, layout);
  for (const [c, syn] of SYNSETS.entries()) {
    mkdirSync(join(root, 'train', syn), { recursive: true });
    for (const [k, [w, h]] of TRAIN_SIZES.entries()) await jpeg(join(root, 'train', syn, `${syn}_${k}.JPEG`), w, h, COLOURS[c]);
  }
  writeFileSync(join(root, 'train', SYNSETS[1], `${SYNSETS[1]}_9.JPEG`), 'this is not a JPEG');
  mkdirSync(join(root, 'val'), { recursive: true });
  for (const [k, c] of VAL_CLASS.entries()) {
    const name = `ILSVRC2012_val_${String(k + 1).padStart(8, '0')}.JPEG`;
    const dir = layout === 'class-folders' ? join(root, 'val', SYNSETS[c]) : join(root, 'val');
    mkdirSync(dir, { recursive: true });
    await jpeg(join(dir, name), 36, 28, COLOURS[c]);
  }
  if (layout === 'loc-csv') {
    const rows = VAL_CLASS.map((c, k) => `ILSVRC2012_val_${String(k + 1).padStart(8, '0')},${SYNSETS[c]} 1 2 30 20 ${SYNSETS[c]} 3 4 10 10`);
    writeFileSync(join(root, 'LOC_val_solution.csv'), ['ImageId,PredictionString', ...rows].join('\n') + '\n');
  }
  if (layout === 'devkit') {
    // devkit ILSVRC2012_IDs follow meta.mat, not sorted synset order: here ID 1 = n02085620, 2 = n01440764, 3 = n01443537
    const devkit = [SYNSETS[2], SYNSETS[0], SYNSETS[1]];
    writeFileSync(join(root, 'synsets.txt'), devkit.join('\n') + '\n');
    writeFileSync(join(root, 'ILSVRC2012_validation_ground_truth.txt'), VAL_CLASS.map((c) => devkit.indexOf(SYNSETS[c]) + 1).join('\n') + '\n');
  }
  return root;
}

const settings = { shortSide: 16, valResize: 16, valCrop: 14, rowsPerShard: 4, concurrency: 2 };

describe('data/imagenet on miniature trees', () => {
  it.each(['class-folders', 'loc-csv', 'devkit'] as const)('converts the %s val layout with sorted-synset labels', async (layout) => {
    const root = await makeTree(layout);
    const out = join(tmp, `${layout}-out`);
    const m = await convertImagenet({ root, ...settings, synsets: layout === 'devkit' ? join(root, 'synsets.txt') : undefined }, out);
    expect(m.classes).toEqual(SYNSETS);
    expect(m.counts).toEqual({ train: 12, val: 6, test: 0 });
    expect(m.corrupt).toHaveLength(1);
    expect(m.corrupt[0].path).toBe(join(root, 'train', SYNSETS[1], `${SYNSETS[1]}_9.JPEG`));
    const ds = openDataset(out);
    const val = ds.split('val');
    const expected = VAL_CLASS.map((c, k) => ({ k, c })).sort((a, b) => a.k - b.k);
    // val images come in file-name order, whatever the layout's folder order
    const byName = new Map(val.ids.map((id, i) => [id.replace(/^n\d+\//, ''), i]));
    for (const { k, c } of expected) {
      const row = byName.get(`ILSVRC2012_val_${String(k + 1).padStart(8, '0')}.JPEG`)!;
      expect(val.labels![row]).toBe(c);
      const px = val.rows().images.data.subarray(row * 14 * 14 * 3 + 7 * 14 * 3 + 7 * 3);
      for (let ch = 0; ch < 3; ch++) expect(Math.abs(px[ch] - COLOURS[c][ch])).toBeLessThanOrEqual(6);
    }
    // train: short side 16, aspect kept as torchvision Resize(16) does: long = int(16 * long / short);
    // rows are stored in a fixed shuffled order so every shard mixes classes
    const train = ds.split('train').rows();
    const img = train.images as Extract<typeof train.images, { kind: 'variable' }>;
    const widths = [16, 24, 16, 35], heights = [24, 16, 16, 16];
    train.ids.forEach((id, r) => {
      const [, syn, k] = /^(n\d+)\/n\d+_(\d)\.JPEG$/.exec(id)!;
      expect([img.widths[r], img.heights[r]]).toEqual([widths[+k], heights[+k]]);
      expect(train.labels![r]).toBe(SYNSETS.indexOf(syn));
    });
    expect(new Set(train.ids).size).toBe(12);
    expect(train.labels!.slice(0, 4)).not.toEqual(Int32Array.from([0, 0, 0, 0]));
  });

  it('fails on the corrupt file with --strict', async () => {
    const root = join(tmp, 'class-folders');
    await expect(convertImagenet({ root, ...settings, strict: true }, join(tmp, 'strict'))).rejects.toThrow(/n01443537_9\.JPEG: cannot decode/);
  });

  it('asks for the synset order of a devkit layout', async () => {
    await expect(convertImagenet({ root: join(tmp, 'devkit'), ...settings }, join(tmp, 'nosyn'))).rejects.toThrow(/meta\.mat order/);
  });

  it('resumes an interrupted conversion, converting only the shards not yet finished', async () => {
    const root = join(tmp, 'class-folders');
    const clean = await convertImagenet({ root, ...settings }, join(tmp, 'clean'));
    const out = join(tmp, 'resumed');
    const stop = new AbortController();
    await expect(convertImagenet({ root, ...settings }, out, { progress: (done) => { if (done === 6) stop.abort(new Error('interrupted')); }, signal: stop.signal })).rejects.toThrow(/interrupted/);
    const first = statSync(join(out, 'train-00000.arrow')).mtimeMs;
    const resumed = await convertImagenet({ root, ...settings }, out);
    expect(resumed.reused).toBe(1);
    expect(resumed.converted).toBe(5); // 13 train files / 4 = 4 shards + 2 val shards, 1 finished before the stop
    expect(statSync(join(out, 'train-00000.arrow')).mtimeMs).toBe(first);
    expect(resumed.shards).toEqual(clean.shards);
    expect(resumed.corrupt).toEqual(clean.corrupt);
    const again = await convertImagenet({ root, ...settings }, out);
    expect([again.reused, again.converted]).toEqual([6, 0]);
  });

  it('streams large splits shard by shard: every row once, order a pure function of (seed, epoch)', async () => {
    const ds = openDataset(join(tmp, 'clean'), { inMemoryLimitBytes: 0 });
    expect(ds.split('train').inMemory).toBe(false);
    const epoch = async (e: number, shuffleWindow?: number) => {
      const rows: number[] = [], ids: string[] = [];
      for await (const b of batches(ds, 'train', { batchSize: 5, seed: 7, epoch: e, shuffle: true, augment: 'imagenet-train', workers: 0, shuffleWindow })) { rows.push(...b.rows); ids.push(...b.ids); }
      return { rows, ids };
    };
    const a = await epoch(0), again = await epoch(0), other = await epoch(1);
    expect([...a.rows].sort((x, y) => x - y)).toEqual([...Array(12).keys()]);
    const oneShardAtATime = await epoch(0, 1);
    expect([...oneShardAtATime.rows].sort((x, y) => x - y)).toEqual([...Array(12).keys()]);
    expect(again.ids).toEqual(a.ids);
    expect(other.ids).not.toEqual(a.ids);
    // the in-memory reader serves the same rows with the same labels, in its own order
    const mem = openDataset(join(tmp, 'clean'));
    const byId = new Map(mem.split('train').ids.map((id, i) => [id, mem.split('train').labels![i]]));
    for await (const b of batches(ds, 'train', { batchSize: 12, seed: 7, epoch: 0, shuffle: true, augment: 'imagenet-train', workers: 0 })) {
      b.ids.forEach((id, i) => expect(b.labels![i]).toBe(byId.get(id)));
    }
  });

  it('feeds random-resized crops of the train set and the stored centre crops of val', async () => {
    const ds = openDataset(join(tmp, 'clean'));
    const train = [];
    for await (const b of batches(ds, 'train', { batchSize: 5, seed: 1, epoch: 0, shuffle: true, augment: 'imagenet-train' })) train.push(b);
    expect(train.map((b) => b.shape)).toEqual([[5, 14, 14, 3], [5, 14, 14, 3], [2, 14, 14, 3]]);
    // a solid-colour image stays its colour under any crop: class 0 red -> (200/255 - 0.485) / 0.229
    const b0 = train[0], i = b0.labels!.indexOf(0);
    if (i >= 0) expect(b0.images[i * 14 * 14 * 3 + 100 * 3]).toBeCloseTo((200 / 255 - 0.485) / 0.229, 1);
    const val = [];
    for await (const b of batches(ds, 'val', { batchSize: 8, seed: 1, epoch: 0, shuffle: false })) val.push(b);
    expect(val[0].shape).toEqual([6, 14, 14, 3]);
  });
});
