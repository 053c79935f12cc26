import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHumanRdm } from '../human-rdm.js';
import { readManifest, type Manifest } from '../manifest.js';
import { readShard } from '../shards.js';
import { correlationRdmUpper, spearman, upper } from '../testing/stats.js';
import { caption, type ToyFactors } from './factors.js';
import { generateToy } from './generate.js';
import { hsvToRgb, renderObject } from './render.js';

const tmp = mkdtempSync(join(tmpdir(), 'lw-toy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('data/toy', () => {
  let m: Manifest;
  const dir = join(tmp, 'a');
  beforeAll(() => { m = generateToy({}, dir); });

  it('writes the default counts, a valid manifest, 66 prompts and a vocabulary', () => {
    expect(m.counts).toEqual({ train: 800, val: 200, test: 48 });
    expect(readManifest(dir)).toEqual(m);
    const prompts = readFileSync(join(dir, 'prompts.txt'), 'utf8').trim().split('\n');
    expect(prompts).toHaveLength(66);
    expect(new Set(prompts).size).toBe(66);
    const vocab = new Set(readFileSync(join(dir, 'vocab.txt'), 'utf8').trim().split('\n'));
    const train = readShard(join(dir, 'train-00000.arrow'));
    for (const text of [...prompts, ...train.captions!]) for (const w of text.match(/[a-z]+/g)!) expect(vocab.has(w)).toBe(true);
  });

  it('is deterministic in its seed', () => {
    const again = generateToy({}, join(tmp, 'b'));
    expect(again.shards.map((s) => s.sha256)).toEqual(m.shards.map((s) => s.sha256));
    expect(again.humanRdm!.sha256).toBe(m.humanRdm!.sha256);
    const other = generateToy({ seed: 2, images: 200 }, join(tmp, 'c'));
    expect(other.counts).toEqual({ train: 121, val: 31, test: 48 });
    expect(other.humanRdm!.sha256).not.toBe(m.humanRdm!.sha256);
  });

  it('has SPoSE-like targets: globally rescaled to [0, 100], non-negative, sparse', () => {
    const all = ['train', 'val', 'test'].map((s) => readShard(join(dir, `${s}-00000.arrow`)).targets!.data);
    let lo = Infinity, hi = -Infinity, small = 0, n = 0;
    for (const t of all) for (const v of t) { lo = Math.min(lo, v); hi = Math.max(hi, v); if (v < 1) small++; n++; }
    expect(lo).toBe(0);
    expect(hi).toBeCloseTo(100, 4);
    expect(small / n).toBeGreaterThan(0.5);
  });

  it('has a human RDM shaped like RDM48_triplet that tracks the embedding clearly but imperfectly', () => {
    const h = readHumanRdm(join(dir, 'human_rdm.arrow'));
    const test = readShard(join(dir, 'test-00000.arrow'));
    expect(h.ids).toEqual(test.ids);
    for (let i = 0; i < 48; i++) {
      expect(h.values[i * 48 + i]).toBe(0);
      for (let j = 0; j < 48; j++) expect(h.values[i * 48 + j]).toBe(h.values[j * 48 + i]);
    }
    const human = upper(h.values, 48);
    expect(new Set(human).size).toBeLessThan(700); // fractions with small denominators tie, as in the real RDM (580 of 1128)
    const rho = spearman(correlationRdmUpper(test.targets!.data, 48, 66), human);
    // Real data: the 48 SPoSE rows' RDM vs RDM48_triplet = 0.864 (scipy.stats.spearmanr on the upper
    // triangles); the toy's observers are tuned to match (seed 1: 0.865), and stay imperfect.
    expect(rho).toBeGreaterThan(0.8);
    expect(rho).toBeLessThan(0.92);
  });

  it('is read back by an independent Arrow implementation (polars) with the same values', () => {
    const file = join(dir, 'val-00000.arrow');
    const ours = readShard(file);
    const df = pl.readIPC(readFileSync(file));
    expect(df.height).toBe(200);
    expect(df.getColumn('id').toArray()).toEqual(ours.ids);
    expect(df.getColumn('caption').toArray()).toEqual(ours.captions);
    expect(df.getColumn('split').toArray()).toEqual(new Array(200).fill('val'));
    expect(df.getColumn('label').toArray()).toEqual([...ours.labels!]);
    const targets = df.getColumn('target').toArray() as number[][];
    expect(targets[7]).toEqual([...ours.targets!.data.subarray(7 * 66, 8 * 66)]);
    const image = df.select(pl.col('image').cast(pl.List(pl.UInt8))).getColumn('image').toArray() as number[][];
    expect(image[3]).toEqual([...ours.images.data.subarray(3 * 32 * 32 * 3, 4 * 32 * 32 * 3)]);
  });
});

describe('toy rendering', () => {
  it('converts HSV like the closed form', () => {
    expect(hsvToRgb(0, 1, 1)).toEqual([1, 0, 0]);
    expect(hsvToRgb(1 / 3, 1, 1).map((v) => +v.toFixed(12))).toEqual([0, 1, 0]);
    expect(hsvToRgb(0.5, 0.5, 1)).toEqual([0.5, 1, 1]);
    expect(hsvToRgb(0.25, 1, 0.5).map((v) => +v.toFixed(12))).toEqual([0.25, 0.5, 0]);
  });

  it('draws the object colour inside and the background outside', () => {
    const f: ToyFactors = { shape: 0, hue: 0, saturation: 1, value: 1, size: 0.5, texture: 0, x: 0, y: 0, rotation: 0 };
    const img = renderObject(f, 16);
    const at = (x: number, y: number) => [...img.subarray((y * 16 + x) * 3, (y * 16 + x) * 3 + 3)];
    expect(at(8, 8)).toEqual([255, 0, 0]);
    expect(at(0, 0)).toEqual([117, 117, 117]); // round(0.46 * 255)
    expect(caption(f)).toBe('a small vivid red circle in the middle');
  });
});
