import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { sha256 } from '@lw/core';
import {
  Binary, Field, FixedSizeBinary, FixedSizeList, Float32, Table, Utf8,
  makeData, makeVector, tableFromIPC, tableToIPC, vectorFromArray, type Vector,
} from 'apache-arrow';
import type { SplitName } from './manifest.js';

/**
 * One shard = one Arrow IPC file (file format, one record batch) with columns
 *   id      utf8
 *   image   FixedSizeBinary(H*W*3) for fixed-size sets, else Binary (+ int32 `height`, `width`)
 *   target  FixedSizeList<Float32>[dim]   (THINGS-like sets)
 *   label   int32                          (classification sets)
 *   caption utf8                           (toy)
 *   split   utf8
 * Pixels are uint8 RGB, row-major [height, width, 3].
 */

export type ShardImages =
  | { kind: 'fixed'; height: number; width: number; data: Uint8Array /* [rows, H, W, 3] */ }
  | { kind: 'variable'; heights: Int32Array; widths: Int32Array; data: Uint8Array; offsets: Int32Array /* rows + 1 */ };

export interface ShardRows {
  ids: string[];
  split: SplitName;
  images: ShardImages;
  targets?: { dim: number; data: Float32Array /* [rows, dim] */ };
  labels?: Int32Array;
  captions?: string[];
}

function fixedBinaryVector(bytesPerRow: number, rows: number, data: Uint8Array): Vector {
  return makeVector(makeData({ type: new FixedSizeBinary(bytesPerRow), length: rows, nullCount: 0, data }));
}

function binaryVector(rows: number, offsets: Int32Array, data: Uint8Array): Vector {
  return makeVector(makeData({ type: new Binary(), length: rows, nullCount: 0, valueOffsets: offsets, data }));
}

function float32ListVector(dim: number, rows: number, data: Float32Array): Vector {
  const child = makeData({ type: new Float32(), length: rows * dim, nullCount: 0, data });
  return makeVector(makeData({ type: new FixedSizeList(dim, new Field('item', new Float32(), false)), length: rows, nullCount: 0, child }));
}

export function shardTable(rows: ShardRows): Table {
  const n = rows.ids.length;
  const cols: Record<string, Vector> = { id: vectorFromArray(rows.ids, new Utf8()) };
  const img = rows.images;
  if (img.kind === 'fixed') {
    if (img.data.length !== n * img.height * img.width * 3) throw new Error(`shard: ${img.data.length} image bytes for ${n} rows of ${img.height}x${img.width}x3`);
    cols.image = fixedBinaryVector(img.height * img.width * 3, n, img.data);
  } else {
    cols.image = binaryVector(n, img.offsets, img.data);
    cols.height = makeVector(img.heights);
    cols.width = makeVector(img.widths);
  }
  if (rows.targets) cols.target = float32ListVector(rows.targets.dim, n, rows.targets.data);
  if (rows.labels) cols.label = makeVector(rows.labels);
  if (rows.captions) cols.caption = vectorFromArray(rows.captions, new Utf8());
  cols.split = vectorFromArray(new Array<string>(n).fill(rows.split), new Utf8());
  return new Table(cols);
}

/** Writes a shard atomically (temp file + rename, so a crash never leaves a half shard); returns its size and hash. */
export function writeShard(file: string, rows: ShardRows): { bytes: number; sha256: string } {
  const bytes = tableToIPC(shardTable(rows), 'file');
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
  return { bytes: bytes.length, sha256: sha256(bytes) };
}

/** Pixels as read back: fixed rows are `bytesPerRow` apart; variable rows have offsets and sizes. */
export type StoredImages =
  | { kind: 'fixed'; bytesPerRow: number; data: Uint8Array }
  | Extract<ShardImages, { kind: 'variable' }>;

/** A shard's columns as flat typed arrays (one record batch or several, concatenated). */
export interface ShardColumns {
  ids: string[];
  images: StoredImages;
  targets?: { dim: number; data: Float32Array };
  labels?: Int32Array;
  captions?: string[];
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export function readShard(file: string): ShardColumns {
  return shardColumns(tableFromIPC(readFileSync(file)), file);
}

/** Flat columns of a shard table; `file` names it in errors. */
export function shardColumns(table: Table, file: string): ShardColumns {
  const n = table.numRows;
  const ids = table.getChild('id')!.toArray() as string[];
  const image = table.getChild('image');
  if (!image) throw new Error(`${file}: no image column`);
  let images: StoredImages;
  if (image.type instanceof FixedSizeBinary) {
    const bytesPerRow = image.type.byteWidth;
    const parts = image.data.map((d) => (d.values as Uint8Array).subarray(d.offset * bytesPerRow, (d.offset + d.length) * bytesPerRow));
    images = { kind: 'fixed', bytesPerRow, data: concatBytes(parts) };
  } else {
    const offsets = new Int32Array(n + 1);
    const parts: Uint8Array[] = [];
    let row = 0, base = 0;
    for (const d of image.data) {
      const vo = d.valueOffsets as Int32Array;
      const first = vo[d.offset];
      for (let i = 0; i < d.length; i++) offsets[row + i + 1] = base + vo[d.offset + i + 1] - first;
      parts.push((d.values as Uint8Array).subarray(first, vo[d.offset + d.length]));
      row += d.length;
      base = offsets[row];
    }
    images = {
      kind: 'variable', offsets, data: concatBytes(parts),
      heights: Int32Array.from(table.getChild('height')!.toArray() as Int32Array),
      widths: Int32Array.from(table.getChild('width')!.toArray() as Int32Array),
    };
  }
  const out: ShardColumns = { ids, images };
  const target = table.getChild('target');
  if (target) {
    const dim = (target.type as FixedSizeList).listSize;
    const data = new Float32Array(n * dim);
    let o = 0;
    for (const d of target.data) {
      const child = d.children[0];
      const vals = (child.values as Float32Array).subarray((child.offset + d.offset * dim), (child.offset + (d.offset + d.length) * dim));
      data.set(vals, o); o += vals.length;
    }
    out.targets = { dim, data };
  }
  const label = table.getChild('label');
  if (label) out.labels = Int32Array.from(label.toArray() as Int32Array);
  const caption = table.getChild('caption');
  if (caption) out.captions = caption.toArray() as string[];
  return out;
}

