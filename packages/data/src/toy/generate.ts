import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, sha256 } from '@lw/core';
import { z } from 'zod';
import { writeHumanRdm } from '../human-rdm.js';
import { writeManifest, type Manifest, type ShardEntry, type SplitName } from '../manifest.js';
import { channelStats } from '../pixels.js';
import { writeShard } from '../shards.js';
import { seededSplit } from '../split.js';
import { PROMPTS, rawEmbedding, rescaleGlobally } from './embedding.js';
import { SHAPES, caption, drawFactors, type ToyFactors } from './factors.js';
import { simulateTripletRdm } from './human.js';
import { renderObject } from './render.js';

export const ToyParams = z.object({
  /** All items, the held-out test items included (THINGS: 1854). */
  images: z.number().int().min(60).default(1048).describe('total items including the test items'),
  /** Held-out items with a human RDM, used only for RSA (THINGS: 48). */
  test: z.number().int().min(3).default(48).describe('held-out items with a simulated human RDM'),
  /** Side of the square images in pixels. */
  size: z.number().int().min(8).max(512).default(32).describe('image side in pixels'),
  /** Fraction of the non-test items used for validation (THINGS: 362 of 1806). */
  valFraction: z.number().min(0).max(0.9).default(0.2),
  seed: z.number().int().default(1),
  /** Inverse temperature of the simulated odd-one-out observers (higher = less noisy human RDM). */
  humanBeta: z.number().positive().default(3),
  /** Weight of SPoSE's dot-product similarity in the observers' choices (rest: their own perceptual distance). */
  humanEmbeddingWeight: z.number().min(0).max(1).default(0.6),
  /** Largest rotation of an object in radians (pi: any orientation, where a rotated square is a diamond). */
  maxRotation: z.number().min(0).max(Math.PI).default(Math.PI).describe('objects rotate by [0, maxRotation) radians'),
  /** How far objects move off centre, as a fraction of the room around them (0: always centred). */
  jitter: z.number().min(0).max(1).default(1).describe('position jitter, fraction of the free room'),
});
export type ToyParams = z.infer<typeof ToyParams>;

interface ToyItem { id: string; factors: ToyFactors }

/** Test items are stratified over shapes so the 48-item RDM spans every class. */
function drawItems(p: ToyParams): { pool: ToyItem[]; test: ToyItem[] } {
  const pose = { maxRotation: p.maxRotation, jitter: p.jitter };
  const pool = Array.from({ length: p.images - p.test }, (_, i) => ({
    id: `toy_${String(i).padStart(5, '0')}`,
    factors: drawFactors(new Rng(p.seed, 'toy', 'item', i), undefined, pose),
  }));
  const test = Array.from({ length: p.test }, (_, t) => ({
    id: `toy_test_${String(t).padStart(3, '0')}`,
    factors: drawFactors(new Rng(p.seed, 'toy', 'test', t), t % SHAPES.length, pose),
  }));
  return { pool, test };
}

/** Every word of the captions and prompts, sorted, for the tiny tokenizer. */
function vocabulary(texts: string[]): string[] {
  const words = new Set<string>();
  for (const t of texts) for (const w of t.toLowerCase().match(/[a-z]+/g) ?? []) words.add(w);
  return [...words].sort();
}

/** [items, size, size, 3] uint8. */
function renderAll(items: ToyItem[], size: number): Uint8Array {
  const bytesPerImage = size * size * 3;
  const images = new Uint8Array(items.length * bytesPerImage);
  items.forEach((it, i) => renderObject(it.factors, size, images.subarray(i * bytesPerImage, (i + 1) * bytesPerImage)));
  return images;
}

function writeSplit(outDir: string, split: SplitName, items: ToyItem[], size: number, images: Uint8Array, targets: Float32Array): ShardEntry {
  const file = `${split}-00000.arrow`;
  const { bytes, sha256 } = writeShard(join(outDir, file), {
    ids: items.map((it) => it.id),
    split,
    images: { kind: 'fixed', height: size, width: size, data: images },
    targets: { dim: PROMPTS.length, data: targets },
    labels: Int32Array.from(items, (it) => it.factors.shape),
    captions: items.map((it) => caption(it.factors)),
  });
  return { file, split, rows: items.length, bytes, sha256 };
}

/** Writes the embedded default data set into `outDir`; returns its manifest. */
export function generateToy(params: Partial<ToyParams>, outDir: string): Manifest {
  const p = ToyParams.parse(params);
  mkdirSync(outDir, { recursive: true });
  const { pool, test } = drawItems(p);
  const { train: trainIdx, val: valIdx } = seededSplit(pool.length, 1 - p.valFraction, new Rng(p.seed, 'toy', 'split'));
  const splits: Record<SplitName, ToyItem[]> = {
    train: Array.from(trainIdx, (i) => pool[i]),
    val: Array.from(valIdx, (i) => pool[i]),
    test,
  };
  // one global rescale over every item, as SPoSE's file is rescaled over all 1854
  const all = [...splits.train, ...splits.val, ...splits.test];
  const emb = rescaleGlobally(all.map((it) => rawEmbedding(it.factors)));
  const dim = PROMPTS.length;
  const images = { train: renderAll(splits.train, p.size), val: renderAll(splits.val, p.size), test: renderAll(splits.test, p.size) };
  // normalisation constants from the training images, as THINGS' constants are dataset statistics
  const normalization = channelStats(images.train);
  let row = 0;
  const shards = (['train', 'val', 'test'] as const).map((split) => {
    const rows = splits[split];
    const targets = emb.subarray(row * dim, (row + rows.length) * dim);
    row += rows.length;
    return writeSplit(outDir, split, rows, p.size, images[split], targets);
  });

  const rdm = simulateTripletRdm(test.map((it) => it.factors), p.seed, { beta: p.humanBeta, embeddingWeight: p.humanEmbeddingWeight, maxRepeats: 2 });
  const rdmHash = writeHumanRdm(join(outDir, 'human_rdm.arrow'), { ids: test.map((it) => it.id), n: test.length, values: rdm });
  const promptsText = PROMPTS.join('\n') + '\n';
  writeFileSync(join(outDir, 'prompts.txt'), promptsText);
  writeFileSync(join(outDir, 'vocab.txt'), vocabulary([...PROMPTS, ...all.map((it) => caption(it.factors))]).join('\n') + '\n');

  const manifest: Manifest = {
    format: 'lw-data/1',
    kind: 'toy',
    counts: { train: splits.train.length, val: splits.val.length, test: test.length },
    image: { height: p.size, width: p.size, channels: 3 },
    storage: Object.fromEntries((['train', 'val', 'test'] as const).map((s) => [s, { kind: 'fixed', height: p.size, width: p.size }])),
    normalization,
    targetDim: dim,
    classes: [...SHAPES],
    shards,
    humanRdm: { file: 'human_rdm.arrow', n: test.length, sha256: rdmHash.sha256 },
    prompts: 'prompts.txt',
    vocab: 'vocab.txt',
    sources: [{ name: 'procedural', path: '@lw/data/toy', bytes: 0, sha256: sha256(promptsText) }],
    corrupt: [],
    params: p,
    createdBy: '@lw/data data/toy',
  };
  writeManifest(outDir, manifest);
  return manifest;
}
