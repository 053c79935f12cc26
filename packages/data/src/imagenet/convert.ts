import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { ProgressLine, Rng, UserError, jsonKey } from '@lw/core';
import { z } from 'zod';
import { decodeResizeCentreCrop, decodeShortSide, type Decoded } from '../decode.js';
import { fingerprintFile } from '../fingerprint.js';
import { writeManifest, type Manifest, type ShardEntry } from '../manifest.js';
import { boundedMap } from '../pool.js';
import { writeShard } from '../shards.js';
import { discoverImagenet, type ImageItem } from './layout.js';

export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

export const ImagenetParams = z.object({
  root: z.string().describe('ILSVRC-2012 folder holding train/ and val/'),
  shortSide: z.number().int().min(8).default(256).describe('train images are stored at this short side, aspect kept (random-resized-crop happens at load time)'),
  valResize: z.number().int().min(8).default(256).describe('val: Resize(short side) ...'),
  valCrop: z.number().int().min(8).default(224).describe('... then CenterCrop; also the model input size'),
  valLabels: z.string().optional().describe('LOC_val_solution.csv or ILSVRC2012_validation_ground_truth.txt, if not beside the tree'),
  synsets: z.string().optional().describe('devkit layout: synset of ILSVRC2012_ID 1, 2, ... one a line (meta.mat order)'),
  strict: z.boolean().default(false).describe('fail on the first unreadable image instead of listing and skipping it'),
  rowsPerShard: z.number().int().positive().default(256),
  concurrency: z.number().int().positive().default(Math.max(2, availableParallelism())),
});
export type ImagenetParams = z.infer<typeof ImagenetParams>;

/** What a finished shard left behind, so a rerun can skip it: `<dir>/.convert/<file>.json`. */
const Journal = z.object({ key: z.string(), entry: z.object({ file: z.string(), split: z.enum(['train', 'val']), rows: z.number(), bytes: z.number(), sha256: z.string() }), corrupt: z.array(z.object({ path: z.string(), reason: z.string() })) });
type Journal = z.infer<typeof Journal>;

export interface ConvertHooks {
  log?: (message: string) => void;
  progress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

interface ShardPlan { split: 'train' | 'val'; file: string; items: ImageItem[]; key: string }

function plan(p: ImagenetParams, split: 'train' | 'val', items: ImageItem[]): ShardPlan[] {
  const out: ShardPlan[] = [];
  const how = split === 'train' ? { shortSide: p.shortSide } : { resize: p.valResize, crop: p.valCrop };
  for (let s = 0, k = 0; s < items.length; s += p.rowsPerShard, k++) {
    const chunk = items.slice(s, s + p.rowsPerShard);
    // a shard is reused only if the same files (by id and size) were converted the same way
    const key = jsonKey({ how, items: chunk.map((it) => [it.id, it.bytes, it.label]) });
    out.push({ split, file: `${split}-${String(k).padStart(5, '0')}.arrow`, items: chunk, key });
  }
  return out;
}

async function convertShard(dir: string, sp: ShardPlan, p: ImagenetParams, onImage: () => void, signal?: AbortSignal): Promise<Journal> {
  const decoded: Array<Decoded | undefined> = new Array(sp.items.length);
  const corrupt: Journal['corrupt'] = [];
  await boundedMap(sp.items.length, p.concurrency, async (i) => {
    const it = sp.items[i];
    try {
      const buf = await readFile(it.path);
      return sp.split === 'train' ? await decodeShortSide(buf, p.shortSide) : await decodeResizeCentreCrop(buf, p.valResize, p.valCrop);
    } catch (e) {
      if (p.strict) throw new UserError(`${it.path}: cannot decode (${(e as Error).message})`, 'remove or replace the file, or drop --strict to skip unreadable images');
      corrupt.push({ path: it.path, reason: (e as Error).message.split('\n')[0] });
      return undefined;
    }
  }, (i, img) => { decoded[i] = img; onImage(); }, signal);
  const keep = sp.items.map((it, i) => ({ it, img: decoded[i] })).filter((x): x is { it: ImageItem; img: Decoded } => x.img !== undefined);
  const offsets = new Int32Array(keep.length + 1);
  keep.forEach(({ img }, i) => { offsets[i + 1] = offsets[i] + img.data.length; });
  const data = new Uint8Array(offsets[keep.length]);
  keep.forEach(({ img }, i) => data.set(img.data, offsets[i]));
  const images = sp.split === 'train'
    ? { kind: 'variable' as const, offsets, data, heights: Int32Array.from(keep, (k) => k.img.height), widths: Int32Array.from(keep, (k) => k.img.width) }
    : { kind: 'fixed' as const, height: p.valCrop, width: p.valCrop, data };
  const written = writeShard(join(dir, sp.file), { ids: keep.map((k) => k.it.id), split: sp.split, images, labels: Int32Array.from(keep, (k) => k.it.label) });
  corrupt.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { key: sp.key, entry: { file: sp.file, split: sp.split, rows: keep.length, ...written }, corrupt };
}

function readJournal(file: string, key: string, shardPath: string): Journal | undefined {
  if (!existsSync(file) || !existsSync(shardPath)) return undefined;
  try {
    const j = Journal.parse(JSON.parse(readFileSync(file, 'utf8')));
    return j.key === key ? j : undefined;
  } catch { return undefined; }
}

/**
 * Converts an ILSVRC-2012 tree into shards in `workDir`, shard by shard with bounded memory; shards
 * finished by an earlier run (same files, same settings) are kept. Writes the manifest last.
 */
export async function convertImagenet(params: z.input<typeof ImagenetParams>, workDir: string, hooks: ConvertHooks = {}): Promise<Manifest & { reused: number; converted: number }> {
  const p = ImagenetParams.parse(params);
  const tree = discoverImagenet(p.root, { valLabels: p.valLabels, synsets: p.synsets });
  hooks.log?.(`imagenet: ${tree.classes.length} classes, ${tree.train.length} train, ${tree.val.length} val images (val layout: ${tree.valLayout})`);
  mkdirSync(join(workDir, '.convert'), { recursive: true });
  // Train rows are stored in a fixed random order, so every shard mixes all classes: a streamed
  // reader that shuffles shards and rows within a few shards then yields class-mixed batches.
  const trainOrder = new Rng(0, 'imagenet', 'train-row-order').permutation(tree.train.length);
  const plans = [...plan(p, 'train', Array.from(trainOrder, (i) => tree.train[i])), ...plan(p, 'val', tree.val)];
  const total = tree.train.length + tree.val.length;
  const progress = new ProgressLine({ label: 'imagenet: convert', total });
  const journals: Journal[] = [];
  let done = 0, reused = 0, converted = 0;
  for (const sp of plans) {
    if (hooks.signal?.aborted) throw hooks.signal.reason ?? new Error('aborted');
    const jfile = join(workDir, '.convert', `${sp.file}.json`);
    let j = readJournal(jfile, sp.key, join(workDir, sp.file));
    if (j) {
      reused++;
      done += sp.items.length;
      progress.update(done, 'resumed');
    } else {
      j = await convertShard(workDir, sp, p, () => { done++; progress.update(done); hooks.progress?.(done, total); }, hooks.signal);
      writeFileSync(`${jfile}.tmp`, JSON.stringify(j));
      renameSync(`${jfile}.tmp`, jfile);
      converted++;
    }
    journals.push(j);
  }
  progress.finish();

  const corrupt = journals.flatMap((j) => j.corrupt);
  const shards: ShardEntry[] = journals.map((j) => j.entry);
  const count = (s: 'train' | 'val') => shards.filter((e) => e.split === s).reduce((a, e) => a + e.rows, 0);
  // The image files are fingerprinted by their listing (path, size, label), not by content: hashing 140 GB would dwarf the conversion.
  const listing = { name: 'images (listing: id, bytes, label)', path: resolve(p.root), bytes: [...tree.train, ...tree.val].reduce((a, it) => a + it.bytes, 0), sha256: jsonKey([...tree.train, ...tree.val].map((it) => [it.id, it.bytes, it.label])) };
  const manifest: Manifest = {
    format: 'lw-data/1',
    kind: 'imagenet',
    counts: { train: count('train'), val: count('val'), test: 0 },
    image: { height: p.valCrop, width: p.valCrop, channels: 3 },
    storage: { train: { kind: 'short-side', shortSide: p.shortSide }, ...(tree.val.length ? { val: { kind: 'fixed' as const, height: p.valCrop, width: p.valCrop } } : {}) },
    normalization: { mean: IMAGENET_MEAN, std: IMAGENET_STD },
    classes: tree.classes,
    shards,
    sources: [listing, ...(await Promise.all(tree.labelFiles.map((f) => fingerprintFile(f))))],
    corrupt,
    params: { ...p, concurrency: undefined, valLayout: tree.valLayout },
    createdBy: '@lw/data data/imagenet',
  };
  writeManifest(workDir, manifest);
  hooks.log?.(`imagenet: ${converted} shards converted, ${reused} kept from an earlier run, ${corrupt.length} unreadable images skipped`);
  return { ...manifest, reused, converted };
}

/** Moves a finished conversion from the scratch directory into the task's output directory. */
export function publishConversion(workDir: string, outDir: string, m: Manifest): void {
  mkdirSync(outDir, { recursive: true });
  for (const f of [...m.shards.map((s) => s.file), 'manifest.json']) {
    try { renameSync(join(workDir, f), join(outDir, f)); } catch { copyFileSync(join(workDir, f), join(outDir, f)); }
  }
}

