import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, sharedDir } from '@lw/core';
import pl from 'nodejs-polars';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { thingsCommand } from './commands.js';
import { loadSplit, openDataset } from './dataset.js';
import { readShard } from './shards.js';
import { prepareThings, THINGS_MEAN } from './things.js';
import { readNameList } from './readers/tables.js';

const things = join(sharedDir(), 'data', 'things');
const tmp = mkdtempSync(join(tmpdir(), 'lw-things-'));
const images = join(tmp, 'object_images');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A small solid-colour JPEG per THINGS name; the colour encodes the row so we can check placement. */
function colourOf(i: number): [number, number, number] {
  return [(i * 37) % 256, (i * 101) % 256, Math.floor(i / 8) % 256];
}

const sources = {
  embeddings: join(things, 'spose_embedding66d_rescaled.csv'),
  names: join(things, 'things1854_image_names.csv'),
  testIndex: join(things, 'triplet48_index.npy'),
  humanRdm: join(things, 'RDM48_triplet.mat'),
  prompts: join(things, 'spose_dimensions66.txt'),
};

describe('data/things on the real behavioural files', () => {
  const names = readNameList(join(things, 'things1854_image_names.csv'));
  const out = join(tmp, 'out');
  beforeAll(async () => {
    // concept sub-folders, as THINGS ships them (aardvark/aardvark_01b.jpg)
    await Promise.all(names.map(async (n, i) => {
      const dir = join(images, n.replace(/_\d+[a-z]?\.jpg$/, ''));
      mkdirSync(dir, { recursive: true });
      const [r, g, b] = colourOf(i);
      await sharp({ create: { width: 12, height: 10, channels: 3, background: { r, g, b } } }).jpeg({ quality: 95 }).toFile(join(dir, n));
    }));
    await prepareThings({ ...sources, images, size: 8 }, out);
  });

  it('loads all 1854 rows with a 1444/362/48 split', () => {
    const ds = openDataset(out);
    expect(ds.manifest.counts).toEqual({ train: 1444, val: 362, test: 48 });
    const ids = ['train', 'val', 'test'].flatMap((s) => ds.split(s as 'train').ids);
    expect(new Set(ids).size).toBe(1854);
    expect(new Set(ids)).toEqual(new Set(names));
    expect(ds.prompts).toHaveLength(66);
    expect(ds.prompts![0]).toBe('metallic; artificial');
    expect(ds.manifest.normalization.mean).toEqual(THINGS_MEAN);
  });

  it('puts the 48 test items in RDM order with their targets and pixels', () => {
    const ds = openDataset(out);
    const test = loadSplit(ds, 'test');
    // method.md Appendix B: the first and last of triplet48_index.npy
    expect(test.ids.slice(0, 3)).toEqual(['pizza_01b.jpg', 'beaver_01b.jpg', 'macadamia_01b.jpg']);
    expect(test.ids[47]).toBe('bucket_01b.jpg');
    expect(ds.humanRdm!.ids).toEqual(test.ids);
    // targets equal the reordered 48-row CSV, an independent file in the same order
    const reordered = readFileSync(join(things, 'spose_embedding66d_rescaled_48val_reordered.csv'), 'utf8').trim().split('\n').slice(1);
    reordered.forEach((line, r) => {
      const cells = line.split(',');
      expect(test.ids[r]).toBe(cells[1]);
      expect(test.targets![r * 66 + 5]).toBe(Math.fround(Number(cells[7])));
    });
    // pixels of pizza (row 1192 of the name list) are its solid colour, up to JPEG error
    const raw = ds.split('test').rows().images.data;
    const want = colourOf(1192);
    for (let c = 0; c < 3; c++) expect(Math.abs(raw[4 * 8 * 3 + 4 * 3 + c] - want[c])).toBeLessThanOrEqual(4);
  });

  it('reads the RDM from the MAT file: zero diagonal, symmetric, values as scipy reads them', () => {
    const { humanRdm } = openDataset(out);
    const v = humanRdm!.values, n = humanRdm!.n;
    expect(n).toBe(48);
    for (let i = 0; i < n; i++) {
      expect(v[i * n + i]).toBe(0);
      for (let j = 0; j < n; j++) expect(v[i * n + j]).toBe(v[j * n + i]);
    }
    // python3 -c "import scipy.io; m = scipy.io.loadmat('RDM48_triplet.mat')['RDM48_triplet']; print(repr(m[0,1]), ...)"
    expect(v[0 * n + 1]).toBe(0.8307692307692307);
    expect(v[0 * n + 2]).toBe(0.14925373134328357); // = 10/67 (method §2.1)
    expect(v[5 * n + 40]).toBe(0.7931034482758621);
    expect(v[47 * n + 46]).toBe(0.24545454545454548);
    expect(v[10 * n + 33]).toBe(0.7542372881355932);
    expect(v.reduce((s, x) => s + x, 0)).toBeCloseTo(1503.247779049517, 9); // m.sum()
  });

  it('gives the same split on every run and a different one for another seed', async () => {
    const again = join(tmp, 'again');
    await prepareThings({ ...sources, images, size: 8 }, again);
    const a = openDataset(out), b = openDataset(again);
    expect(b.split('train').ids).toEqual(a.split('train').ids);
    expect(b.manifest.shards.map((s) => s.sha256)).toEqual(a.manifest.shards.map((s) => s.sha256));
    const other = join(tmp, 'other');
    await prepareThings({ ...sources, images, size: 8, seed: 2 }, other);
    expect(openDataset(other).split('train').ids).not.toEqual(a.split('train').ids);
  });

  it('takes the study-style split file made with torch instead of the seeded split', async () => {
    const dir = join(tmp, 'torch-split');
    const splitFile = join(repoRoot(), 'packages', 'data', 'splits', 'things1806-torch-seed1.json');
    await prepareThings({ ...sources, images, size: 8, splitFile }, dir);
    const ds = openDataset(dir);
    expect(ds.manifest.counts).toEqual({ train: 1444, val: 362, test: 48 });
    // torch.manual_seed(1); random_split(range(1806), [1444, 362]).indices[0] == 763 (see the file's "how");
    // row 763 of the 1806 non-test rows, in the 1854 list order
    const testSet = new Set(openDataset(out).split('test').ids);
    const pool1806 = names.filter((n) => !testSet.has(n));
    expect(pool1806).toHaveLength(1806);
    expect(ds.split('train').ids).toContain(pool1806[763]);
    expect(ds.split('val').ids).toContain(pool1806[152]); // first of test_indices
    const bad = join(tmp, 'split-bad.json');
    writeFileSync(bad, JSON.stringify({ train_indices: [0, 1], test_indices: [1] }));
    await expect(prepareThings({ ...sources, images, size: 8, splitFile: bad }, join(tmp, 'y'))).rejects.toThrow(/index 1 appears twice/);
  });

  it('is read back by polars with the same values', () => {
    const ds = openDataset(out);
    const file = join(out, ds.manifest.shards.find((s) => s.split === 'val')!.file);
    const ours = readShard(file);
    const df = pl.readIPC(readFileSync(file));
    expect(df.getColumn('id').toArray()).toEqual(ours.ids);
    expect((df.getColumn('target').toArray() as number[][])[100]).toEqual([...ours.targets!.data.subarray(6600, 6666)]);
    const image = df.select(pl.col('image').cast(pl.List(pl.UInt8))).getColumn('image').toArray() as number[][];
    expect(image[361]).toEqual([...ours.images.data.subarray(361 * 192, 362 * 192)]);
    const rdm = pl.readIPC(readFileSync(join(out, 'human_rdm.arrow')));
    expect((rdm.getColumn('rdm').toArray() as number[][])[0][2]).toBe(0.14925373134328357);
  });

  it('accepts the reordered CSV as the test index and the original whitespace embedding', async () => {
    // Hebart's layout: 66 whitespace-separated numbers a line, no names; rescaled globally on read.
    const csv = readFileSync(sources.embeddings, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(2).map((x) => String(Number(x) / 50 - 0.3)).join(' '));
    const txt = join(tmp, 'spose_embedding_66d_sorted.txt');
    writeFileSync(txt, csv.join('\n') + '\n');
    const dir = join(tmp, 'from-txt');
    await prepareThings({ ...sources, embeddings: txt, testIndex: join(things, 'spose_embedding66d_rescaled_48val_reordered.csv'), images, size: 8 }, dir);
    const a = loadSplit(openDataset(out), 'test'), b = loadSplit(openDataset(dir), 'test');
    expect(b.ids).toEqual(a.ids);
    // an affine map of a [0, 100]-rescaled embedding rescales back to the same values
    for (const k of [0, 65, 1000, 3167]) expect(b.targets![k]).toBeCloseTo(a.targets![k], 3);
  });
});

describe('lw data things', () => {
  it('runs from the CLI flags and prints a JSON summary last', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out.push(String(s)); return true; });
    const dir = join(tmp, 'cli');
    try {
      // yargs hands handlers both the dashed and the camel-case spelling of each flag
      await thingsCommand.handler({
        images, embeddings: sources.embeddings, 'test-index': sources.testIndex, testIndex: sources.testIndex,
        'human-rdm': sources.humanRdm, humanRdm: sources.humanRdm, prompts: sources.prompts, out: dir, size: 8, seed: 1, json: true,
      });
    } finally { spy.mockRestore(); }
    expect(JSON.parse(out.join('').trim().split('\n').pop()!).counts).toEqual({ train: 1444, val: 362, test: 48 });
    expect(openDataset(dir).split('train').ids).toEqual(openDataset(join(tmp, 'out')).split('train').ids);
  });
});

describe('data/things validation', () => {
  const bad = join(tmp, 'bad');
  beforeAll(() => mkdirSync(bad, { recursive: true }));

  it('names the missing images', async () => {
    const few = join(tmp, 'few');
    mkdirSync(few, { recursive: true });
    copyFileSync(join(images, 'aardvark', 'aardvark_01b.jpg'), join(few, 'aardvark_01b.jpg'));
    await expect(prepareThings({ ...sources, images: few, size: 8 }, join(tmp, 'x'))).rejects.toThrow(/1853 of 1854 images are missing, e\.g\. abacus_01b\.jpg/);
  });

  it('names a row with the wrong number of dimensions', async () => {
    const lines = readFileSync(sources.embeddings, 'utf8').split('\n');
    lines[3] = lines[3].split(',').slice(0, -1).join(',');
    const f = join(bad, 'emb.csv');
    writeFileSync(f, lines.join('\n'));
    await expect(prepareThings({ ...sources, embeddings: f, images, size: 8 }, join(tmp, 'x'))).rejects.toThrow(/emb\.csv:4: 65 values for accordion_01b\.jpg, expected 66/);
  });

  it('names an embedding row that does not match the name list', async () => {
    const lines = readFileSync(sources.embeddings, 'utf8').split('\n');
    lines[2] = lines[2].replace('abacus_01b.jpg', 'abacus_02.jpg');
    const f = join(bad, 'emb2.csv');
    writeFileSync(f, lines.join('\n'));
    await expect(prepareThings({ ...sources, embeddings: f, images, size: 8 }, join(tmp, 'x'))).rejects.toThrow(/emb2\.csv:3: row 1 is "abacus_02\.jpg" but the name list has "abacus_01b\.jpg"/);
  });

  it('rejects a non-square and an asymmetric RDM', async () => {
    const rows = Array.from({ length: 48 }, (_, i) => Array.from({ length: 48 }, (_, j) => (i === j ? 0 : 0.5)));
    const f = join(bad, 'rdm.csv');
    writeFileSync(f, rows.slice(0, 47).map((r) => r.join(',')).join('\n'));
    await expect(prepareThings({ ...sources, humanRdm: f, images, size: 8 }, join(tmp, 'x'))).rejects.toThrow(/rdm\.csv: RDM is 47x48, not square/);
    rows[3][7] = 0.25;
    writeFileSync(f, rows.map((r) => r.join(',')).join('\n'));
    await expect(prepareThings({ ...sources, humanRdm: f, images, size: 8 }, join(tmp, 'x'))).rejects.toThrow(/not symmetric at \(4, 8\) \(tarantula_01b\.jpg vs mistletoe_01b\.jpg\)/);
  });
});
