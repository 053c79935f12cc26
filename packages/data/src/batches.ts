import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng, UserError } from '@lw/core';
import { tableFromIPC } from 'apache-arrow';
import { centreCropBox, randomResizedCropBox } from './augment.js';
import type { Dataset } from './dataset.js';
import type { SplitName } from './manifest.js';
import { normalizeInto } from './pixels.js';
import { resampleCrop, type Box } from './resample.js';
import { shardColumns, type ShardColumns } from './shards.js';

export type Augment = 'imagenet-train' | 'imagenet-val' | 'none';

export interface BatchOptions {
  batchSize: number;
  /** Shuffle and augmentation seed. */
  seed: number;
  epoch: number;
  shuffle: boolean;
  /** `none` (default): stored pixels as they are; `imagenet-train`: RandomResizedCrop + flip; `imagenet-val`: Resize 256 + CenterCrop 224 (scaled to `size`). */
  augment?: Augment;
  /** Per-channel constants; default the manifest's. */
  normalize?: { mean: readonly number[]; std: readonly number[] };
  /** Output side for the augment modes; default the manifest's image size. */
  size?: number;
  /** Drop a last incomplete batch (default false, as the study's loaders). */
  dropLast?: boolean;
}

export interface Batch {
  index: number;
  /** [B, H, W, 3] normalised. */
  images: Float32Array;
  shape: [number, number, number, number];
  /** [B, targetDim] */
  targets?: Float32Array;
  labels?: Int32Array;
  ids: string[];
  /** Row of each sample in the split's stored order. */
  rows: Int32Array;
}

/** A run of rows from one block of decoded columns, in the order they are to be served. */
interface Chunk { cols: ShardColumns; order: Int32Array; globalOffset: number }

/**
 * Epoch order. In-memory splits: one permutation of all rows, `Rng(seed, 'shuffle', epoch)`.
 * Streamed splits: shards in a permuted order, rows permuted within each shard (both pure functions
 * of (seed, epoch)), reading one shard ahead.
 */
async function* chunks(ds: Dataset, split: SplitName, opts: BatchOptions): AsyncGenerator<Chunk> {
  const view = ds.split(split);
  if (view.inMemory) {
    const order = opts.shuffle ? new Rng(opts.seed, 'shuffle', opts.epoch).permutation(view.count) : Int32Array.from({ length: view.count }, (_, i) => i);
    yield { cols: view.rows(), order, globalOffset: 0 };
    return;
  }
  const starts: number[] = [];
  view.shards.reduce((s, e) => { starts.push(s); return s + e.rows; }, 0);
  const shardOrder = opts.shuffle ? new Rng(opts.seed, 'shuffle', opts.epoch, 'shards').permutation(view.shards.length) : Int32Array.from(view.shards.keys());
  const load = (k: number) => readFile(join(ds.dir, view.shards[k].file)).then((buf) => shardColumns(tableFromIPC(buf), view.shards[k].file));
  let next = shardOrder.length ? load(shardOrder[0]) : undefined;
  for (let s = 0; s < shardOrder.length; s++) {
    const cols = await next!;
    next = s + 1 < shardOrder.length ? load(shardOrder[s + 1]) : undefined;
    const k = shardOrder[s], n = cols.ids.length;
    const order = opts.shuffle ? new Rng(opts.seed, 'shuffle', opts.epoch, 'shard', k).permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
    yield { cols, order, globalOffset: starts[k] };
  }
}

function imageOf(cols: ShardColumns, row: number, fixed: { height: number; width: number } | undefined) {
  const img = cols.images;
  if (img.kind === 'fixed') return { data: img.data, offset: row * img.bytesPerRow, height: fixed!.height, width: fixed!.width };
  return { data: img.data, offset: img.offsets[row], height: img.heights[row], width: img.widths[row] };
}

function buildBatch(index: number, picks: Array<{ cols: ShardColumns; row: number; global: number }>, opts: Required<Pick<BatchOptions, 'augment'>> & BatchOptions,
  out: { height: number; width: number }, fixed: { height: number; width: number } | undefined, norm: { mean: readonly number[]; std: readonly number[] }): Batch {
  const B = picks.length, px = out.height * out.width;
  const images = new Float32Array(B * px * 3);
  const first = picks[0].cols;
  const dim = first.targets?.dim ?? 0;
  const targets = first.targets ? new Float32Array(B * dim) : undefined;
  const labels = first.labels ? new Int32Array(B) : undefined;
  const ids: string[] = [];
  const rows = new Int32Array(B);
  const scratch = new Float32Array(px * 3);
  picks.forEach(({ cols, row, global }, b) => {
    ids.push(cols.ids[row]);
    rows[b] = global;
    if (targets) targets.set(cols.targets!.data.subarray(row * dim, (row + 1) * dim), b * dim);
    if (labels) labels[b] = cols.labels![row];
    const img = imageOf(cols, row, fixed);
    if (opts.augment === 'none') {
      if (img.height !== out.height || img.width !== out.width) {
        throw new UserError(`image ${cols.ids[row]} is ${img.height}x${img.width}, batches want ${out.height}x${out.width}`, 'pass augment "imagenet-train" or "imagenet-val" for sets stored at another size');
      }
      normalizeInto(img.data, img.offset, px, norm.mean, norm.std, images, b * px * 3);
      return;
    }
    let box: Box, flip = false;
    if (opts.augment === 'imagenet-train') {
      const rng = new Rng(opts.seed, 'augment', opts.epoch, global);
      box = randomResizedCropBox(img.height, img.width, rng);
      flip = rng.uniform() < 0.5;
    } else {
      box = centreCropBox(img.height, img.width, out.height);
    }
    resampleCrop(img.data, img.offset, img.height, img.width, box, out.height, out.width, scratch, 0, flip);
    const o = b * px * 3;
    for (let p = 0; p < px; p++) {
      for (let c = 0; c < 3; c++) images[o + 3 * p + c] = (scratch[3 * p + c] / 255 - norm.mean[c]) / norm.std[c];
    }
  });
  return { index, images, shape: [B, out.height, out.width, 3], targets, labels, ids, rows };
}

async function* assemble(ds: Dataset, split: SplitName, opts: BatchOptions): AsyncGenerator<Batch> {
  const view = ds.split(split);
  const augment = opts.augment ?? 'none';
  const norm = opts.normalize ?? ds.manifest.normalization;
  const side = opts.size;
  const out = side ? { height: side, width: side } : { height: ds.manifest.image.height, width: ds.manifest.image.width };
  const fixed = view.storage.kind === 'fixed' ? { height: view.storage.height, width: view.storage.width } : undefined;
  let picks: Array<{ cols: ShardColumns; row: number; global: number }> = [];
  let index = 0;
  for await (const chunk of chunks(ds, split, opts)) {
    for (const row of chunk.order) {
      picks.push({ cols: chunk.cols, row, global: chunk.globalOffset + row });
      if (picks.length === opts.batchSize) {
        yield buildBatch(index++, picks, { ...opts, augment }, out, fixed, norm);
        picks = [];
      }
    }
  }
  if (picks.length > 0 && !opts.dropLast) yield buildBatch(index, picks, { ...opts, augment }, out, fixed, norm);
}

/**
 * The batches of one epoch of a split. Order and augmentation are pure functions of (seed, epoch):
 * shuffling draws from `Rng(seed, 'shuffle', epoch)`, augmentation of row r from
 * `Rng(seed, 'augment', epoch, r)`. The next batch is prepared while the consumer works on the
 * current one (on its awaits: the preparation runs on this thread).
 */
export async function* batches(ds: Dataset, split: SplitName, opts: BatchOptions): AsyncGenerator<Batch> {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new UserError(`batchSize must be a positive integer, got ${opts.batchSize}`);
  const it = assemble(ds, split, opts);
  // Ask for the next batch on the next event-loop turn: it is built while the consumer awaits
  // (tfjs kernels, data reads), not before the current batch is handed out.
  const ahead = () => new Promise<IteratorResult<Batch>>((res, rej) => setImmediate(() => it.next().then(res, rej)));
  let next = ahead();
  try {
    for (;;) {
      const cur = await next;
      if (cur.done) return;
      next = ahead();
      yield cur.value;
    }
  } finally {
    // a consumer that stops early must not leave a rejected prefetch unhandled
    next.catch(() => undefined);
  }
}
