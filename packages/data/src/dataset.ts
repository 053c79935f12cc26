import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@lw/core';
import { readHumanRdm, type HumanRdm } from './human-rdm.js';
import { readManifest, type ImageStorage, type Manifest, type ShardEntry, type SplitName } from './manifest.js';
import { normalizeInto } from './pixels.js';
import { readShard, type ShardColumns, type StoredImages } from './shards.js';

/**
 * A prepared data directory opened for reading. Small splits (toy, THINGS: a few hundred MB at most)
 * are decoded once into memory as uint8 and kept; large ones (ImageNet) are streamed shard by shard
 * by `batches`.
 */

/** Splits whose stored pixels exceed this are streamed rather than held in memory. */
export const IN_MEMORY_LIMIT_BYTES = 3 * 2 ** 30;

export interface SplitView {
  name: SplitName;
  count: number;
  storage: ImageStorage;
  shards: ShardEntry[];
  /** True when the whole split fits in memory (then `rows()` and the getters below work). */
  inMemory: boolean;
  /** Every row, decoded once and cached. */
  rows(): ShardColumns;
  readonly ids: string[];
  readonly targets: Float32Array | undefined; // [count, targetDim]
  readonly labels: Int32Array | undefined; // [count]
  readonly captions: string[] | undefined;
}

export interface Dataset {
  dir: string;
  manifest: Manifest;
  /** The human RDM (THINGS-like sets), ids in RDM order = the test split's row order. */
  humanRdm: HumanRdm | undefined;
  /** The 66 dimension prompts, in target-column order. */
  prompts: string[] | undefined;
  /** Every word of the toy set's captions and prompts. */
  vocab: string[] | undefined;
  split(name: SplitName): SplitView;
}

function readLines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0);
}

function concatColumns(parts: ShardColumns[], storage: ImageStorage): ShardColumns {
  if (parts.length === 1) return parts[0];
  const cat = <T extends Float32Array | Int32Array | Uint8Array>(xs: T[], make: (n: number) => T): T => {
    const out = make(xs.reduce((s, x) => s + x.length, 0));
    let o = 0;
    for (const x of xs) { out.set(x, o); o += x.length; }
    return out;
  };
  const ids = parts.flatMap((p) => p.ids);
  let images: StoredImages;
  if (storage.kind === 'fixed') {
    images = { kind: 'fixed', bytesPerRow: storage.height * storage.width * 3, data: cat(parts.map((p) => p.images.data), (n) => new Uint8Array(n)) };
  } else {
    const vs = parts.map((p) => p.images as Extract<StoredImages, { kind: 'variable' }>);
    const offsets = new Int32Array(ids.length + 1);
    let row = 0, base = 0;
    for (const v of vs) {
      for (let i = 1; i < v.offsets.length; i++) offsets[row + i] = base + v.offsets[i];
      row += v.offsets.length - 1;
      base = offsets[row];
    }
    images = {
      kind: 'variable', offsets, data: cat(vs.map((v) => v.data), (n) => new Uint8Array(n)),
      heights: cat(vs.map((v) => v.heights), (n) => new Int32Array(n)), widths: cat(vs.map((v) => v.widths), (n) => new Int32Array(n)),
    };
  }
  const out: ShardColumns = { ids, images };
  if (parts[0].targets) out.targets = { dim: parts[0].targets.dim, data: cat(parts.map((p) => p.targets!.data), (n) => new Float32Array(n)) };
  if (parts[0].labels) out.labels = cat(parts.map((p) => p.labels!), (n) => new Int32Array(n));
  if (parts[0].captions) out.captions = parts.flatMap((p) => p.captions!);
  return out;
}

function estimateBytes(storage: ImageStorage, count: number, shards: ShardEntry[]): number {
  return storage.kind === 'fixed' ? count * storage.height * storage.width * 3 : shards.reduce((s, e) => s + e.bytes, 0);
}

function openSplit(dir: string, manifest: Manifest, name: SplitName, inMemoryLimit: number): SplitView {
  const storage = manifest.storage[name];
  const shards = manifest.shards.filter((s) => s.split === name);
  if (!storage) throw new UserError(`${join(dir, 'manifest.json')}: no split "${name}"`, `splits here: ${Object.keys(manifest.storage).join(', ')}`);
  const count = manifest.counts[name];
  const inMemory = estimateBytes(storage, count, shards) <= inMemoryLimit;
  let cached: ShardColumns | undefined;
  const rows = (): ShardColumns => {
    if (!inMemory) throw new UserError(`${dir}: split "${name}" is too large to hold in memory`, 'iterate it with batches()');
    if (!cached) {
      cached = concatColumns(shards.map((s) => readShard(join(dir, s.file))), storage);
      if (cached.ids.length !== count) throw new UserError(`${dir}: split "${name}" has ${cached.ids.length} rows in its shards but the manifest counts ${count}`);
    }
    return cached;
  };
  return {
    name, count, storage, shards, inMemory, rows,
    get ids() { return rows().ids; },
    get targets() { return rows().targets?.data; },
    get labels() { return rows().labels; },
    get captions() { return rows().captions; },
  };
}

export interface OpenOptions {
  /** Splits whose stored pixels exceed this many bytes are streamed (default IN_MEMORY_LIMIT_BYTES). */
  inMemoryLimitBytes?: number;
}

export function openDataset(dir: string, opts: OpenOptions = {}): Dataset {
  const manifest = readManifest(dir);
  const splits = new Map<SplitName, SplitView>();
  const humanRdm = manifest.humanRdm ? readHumanRdm(join(dir, manifest.humanRdm.file)) : undefined;
  const optionalLines = (f: string | undefined) => (f && existsSync(join(dir, f)) ? readLines(join(dir, f)) : undefined);
  return {
    dir, manifest, humanRdm,
    prompts: optionalLines(manifest.prompts),
    vocab: optionalLines(manifest.vocab),
    split(name) {
      let s = splits.get(name);
      if (!s) { s = openSplit(dir, manifest, name, opts.inMemoryLimitBytes ?? IN_MEMORY_LIMIT_BYTES); splits.set(name, s); }
      return s;
    },
  };
}

export interface LoadedSplit {
  ids: string[];
  /** [count, H, W, 3] normalised. */
  images: Float32Array;
  shape: [number, number, number, number];
  targets?: Float32Array; // [count, targetDim]
  labels?: Int32Array;
}

/**
 * Every image of a fixed-size split at once, normalised, in stored order (the test split is in
 * RDM order): for the RSA images and feature caching. Variable-size splits need `batches` with an
 * augment mode that fixes the size.
 */
export function loadSplit(ds: Dataset, name: SplitName, normalize = ds.manifest.normalization): LoadedSplit {
  const view = ds.split(name);
  if (view.storage.kind !== 'fixed') throw new UserError(`${ds.dir}: split "${name}" stores images of varying size`, 'use batches() with augment "imagenet-val"');
  const rows = view.rows();
  const { height, width } = view.storage;
  const images = new Float32Array(view.count * height * width * 3);
  normalizeInto(rows.images.data, 0, view.count * height * width, normalize.mean, normalize.std, images, 0);
  return { ids: rows.ids, images, shape: [view.count, height, width, 3], targets: rows.targets?.data, labels: rows.labels };
}
