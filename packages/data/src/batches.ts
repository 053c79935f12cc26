import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Rng, UserError } from '@lw/core';
import { tableFromIPC } from 'apache-arrow';
import { centreCropBox, randomResizedCropBox } from './augment.js';
import type { Dataset } from './dataset.js';
import type { SplitName } from './manifest.js';
import { AugmentPool } from './augment-pool.js';
import { runJob, type AugmentJob } from './augment-worker.js';
import { normalizeInto } from './pixels.js';
import type { Box } from './resample.js';
import { shardColumns, type ShardColumns } from './shards.js';

export type Augment = 'imagenet-train' | 'imagenet-val' | 'none';

export interface BatchOptions {
  batchSize: number;
  /** Shuffle and augmentation seed. */
  seed: number;
  /** 1-based epoch: the shuffle order and augmentation draws are functions of (seed, epoch). */
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
  /** Streamed splits: how many shards are read and shuffled together (default 4). */
  shuffleWindow?: number;
  /**
   * Worker threads for the augment modes (crop + resample + normalise), so batches are prepared in
   * parallel with training. Default: cores - 1 (at least 1) when augmenting, 0 otherwise. Results
   * are identical for any number of workers.
   */
  workers?: number;
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

/** One sample to serve: its decoded columns, its row there, and its row in the split's stored order. */
type Picked = { cols: ShardColumns; row: number; global: number };

/**
 * Epoch order. In-memory splits: one permutation of all rows, `Rng(seed, 'shuffle', epoch)`.
 * Streamed splits: shards in a permuted order, taken `shuffleWindow` at a time, rows permuted within
 * each window (all pure functions of (seed, epoch)); the next window is read while this one is served.
 */
async function* chunks(ds: Dataset, split: SplitName, opts: BatchOptions): AsyncGenerator<Picked[]> {
  const view = ds.split(split);
  const identity = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
  if (view.inMemory) {
    const order = opts.shuffle ? new Rng(opts.seed, 'shuffle', opts.epoch).permutation(view.count) : identity(view.count);
    const cols = view.rows();
    yield Array.from(order, (row) => ({ cols, row, global: row }));
    return;
  }
  const window = Math.max(1, opts.shuffleWindow ?? 4);
  const starts: number[] = [];
  view.shards.reduce((s, e) => { starts.push(s); return s + e.rows; }, 0);
  const shardOrder = opts.shuffle ? new Rng(opts.seed, 'shuffle', opts.epoch, 'shards').permutation(view.shards.length) : identity(view.shards.length);
  const windows: number[][] = [];
  for (let w = 0; w < shardOrder.length; w += window) windows.push([...shardOrder.subarray(w, w + window)]);
  const loadOne = (k: number) => readFile(join(ds.dir, view.shards[k].file)).then((buf) => shardColumns(tableFromIPC(buf), view.shards[k].file));
  const load = (ks: number[]) => Promise.all(ks.map(loadOne));
  let next = windows.length ? load(windows[0]) : undefined;
  for (let w = 0; w < windows.length; w++) {
    const parts = await next!;
    next = w + 1 < windows.length ? load(windows[w + 1]) : undefined;
    const rows: Picked[] = parts.flatMap((cols, j) => cols.ids.map((_, row) => ({ cols, row, global: starts[windows[w][j]] + row })));
    const order = opts.shuffle ? new Rng(opts.seed, 'shuffle', opts.epoch, 'window', w).permutation(rows.length) : identity(rows.length);
    yield Array.from(order, (i) => rows[i]);
  }
}

function imageOf(cols: ShardColumns, row: number, fixed: { height: number; width: number } | undefined) {
  const img = cols.images;
  if (img.kind === 'fixed') return { data: img.data, offset: row * img.bytesPerRow, height: fixed!.height, width: fixed!.width };
  return { data: img.data, offset: img.offsets[row], height: img.heights[row], width: img.widths[row] };
}

type Resolved = Required<Pick<BatchOptions, 'augment'>> & BatchOptions;

/** One job of crops for the augmentation workers: the samples' stored pixels copied into one transferable buffer. */
function augmentJob(samples: Array<{ img: ReturnType<typeof imageOf>; box: Box; flip: boolean }>, out: number, norm: { mean: readonly number[]; std: readonly number[] }): AugmentJob {
  const sizes = samples.map((s) => s.img.height * s.img.width * 3);
  const pixels = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  const offsets: number[] = [];
  let o = 0;
  samples.forEach((s, i) => { offsets.push(o); pixels.set(s.img.data.subarray(s.img.offset, s.img.offset + sizes[i]), o); o += sizes[i]; });
  return {
    pixels, offsets, heights: samples.map((s) => s.img.height), widths: samples.map((s) => s.img.width),
    boxes: samples.map((s) => s.box), flips: samples.map((s) => s.flip), out, mean: [...norm.mean], std: [...norm.std],
  };
}

async function buildBatch(index: number, picks: Picked[], opts: Resolved, out: { height: number; width: number },
  fixed: { height: number; width: number } | undefined, norm: { mean: readonly number[]; std: readonly number[] }, pool: AugmentPool | undefined): Promise<Batch> {
  const B = picks.length, px = out.height * out.width;
  const images = new Float32Array(B * px * 3);
  const first = picks[0].cols;
  const dim = first.targets?.dim ?? 0;
  const targets = first.targets ? new Float32Array(B * dim) : undefined;
  const labels = first.labels ? new Int32Array(B) : undefined;
  const ids: string[] = [];
  const rows = new Int32Array(B);
  picks.forEach(({ cols, row, global }, b) => {
    ids.push(cols.ids[row]);
    rows[b] = global;
    if (targets) targets.set(cols.targets!.data.subarray(row * dim, (row + 1) * dim), b * dim);
    if (labels) labels[b] = cols.labels![row];
  });
  if (opts.augment === 'none') {
    picks.forEach(({ cols, row }, b) => {
      const img = imageOf(cols, row, fixed);
      if (img.height !== out.height || img.width !== out.width) {
        throw new UserError(`image ${cols.ids[row]} is ${img.height}x${img.width}, batches want ${out.height}x${out.width}`, 'pass augment "imagenet-train" or "imagenet-val" for sets stored at another size');
      }
      normalizeInto(img.data, img.offset, px, norm.mean, norm.std, images, b * px * 3);
    });
    return { index, images, shape: [B, out.height, out.width, 3], targets, labels, ids, rows };
  }
  if (out.height !== out.width) throw new UserError(`augment "${opts.augment}" makes square images; the output size is ${out.height}x${out.width}`);
  // boxes and flips are drawn here, in sample order, so results do not depend on the worker count
  const samples = picks.map(({ cols, row, global }) => {
    const img = imageOf(cols, row, fixed);
    if (opts.augment === 'imagenet-train') {
      const rng = new Rng(opts.seed, 'augment', opts.epoch, global);
      const box = randomResizedCropBox(img.height, img.width, rng);
      return { img, box, flip: rng.uniform() < 0.5 };
    }
    return { img, box: centreCropBox(img.height, img.width, out.height), flip: false };
  });
  const parts = pool ? Math.min(pool.size, B) : 1;
  const per = Math.ceil(B / parts);
  const results = await Promise.all(Array.from({ length: parts }, (_, k) => {
    const job = augmentJob(samples.slice(k * per, (k + 1) * per), out.height, norm);
    return pool ? pool.run(job) : Promise.resolve(runJob(job));
  }));
  let o = 0;
  for (const r of results) { images.set(r, o); o += r.length; }
  return { index, images, shape: [B, out.height, out.width, 3], targets, labels, ids, rows };
}

async function* assemble(ds: Dataset, split: SplitName, opts: BatchOptions, pool: AugmentPool | undefined): AsyncGenerator<Batch> {
  const view = ds.split(split);
  const augment = opts.augment ?? 'none';
  const norm = opts.normalize ?? ds.manifest.normalization;
  const side = opts.size;
  const out = side ? { height: side, width: side } : { height: ds.manifest.image.height, width: ds.manifest.image.width };
  const fixed = view.storage.kind === 'fixed' ? { height: view.storage.height, width: view.storage.width } : undefined;
  let picks: Picked[] = [];
  let index = 0;
  for await (const chunk of chunks(ds, split, opts)) {
    for (const pick of chunk) {
      picks.push(pick);
      if (picks.length === opts.batchSize) {
        yield await buildBatch(index++, picks, { ...opts, augment }, out, fixed, norm, pool);
        picks = [];
      }
    }
  }
  if (picks.length > 0 && !opts.dropLast) yield await buildBatch(index, picks, { ...opts, augment }, out, fixed, norm, pool);
}

/**
 * The batches of one epoch of a split. Order and augmentation are pure functions of (seed, epoch):
 * shuffling draws from `Rng(seed, 'shuffle', epoch)`, augmentation of row r from
 * `Rng(seed, 'augment', epoch, r)`. The next batch is prepared while the consumer works on the
 * current one (on its awaits: the preparation runs on this thread).
 */
export async function* batches(ds: Dataset, split: SplitName, opts: BatchOptions): AsyncGenerator<Batch> {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new UserError(`batchSize must be a positive integer, got ${opts.batchSize}`);
  const augmenting = (opts.augment ?? 'none') !== 'none';
  const workers = opts.workers ?? (augmenting ? Math.max(1, availableParallelism() - 1) : 0);
  const pool = augmenting && workers > 0 ? new AugmentPool(workers) : undefined;
  const it = assemble(ds, split, opts, pool);
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
    await pool?.close();
  }
}
