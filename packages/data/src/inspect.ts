import { basename, dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { openDataset } from './dataset.js';
import { SPLITS, type SplitName } from './manifest.js';

/** `lw data inspect`: what a prepared data set holds, plus a contact sheet of sample images. */

export interface RdmStats { n: number; min: number; max: number; mean: number; uniqueOffDiagonal: number; pairs: number; symmetric: boolean; zeroDiagonal: boolean }

export interface Inspection {
  dir: string;
  kind: string;
  counts: Record<SplitName, number>;
  image: { height: number; width: number; channels: number };
  storage: Record<string, unknown>;
  normalization: { mean: number[]; std: number[] };
  targetDim?: number;
  classes?: number;
  shards: number;
  bytes: number;
  sampleIds: Partial<Record<SplitName, string[]>>;
  rdm?: RdmStats;
  prompts?: number;
  corrupt: number;
  contactSheet?: string;
}

function rdmStats(n: number, v: Float64Array): RdmStats {
  let min = Infinity, max = -Infinity, sum = 0, symmetric = true, zeroDiagonal = true;
  const unique = new Set<number>();
  for (let i = 0; i < n; i++) {
    if (v[i * n + i] !== 0) zeroDiagonal = false;
    for (let j = i + 1; j < n; j++) {
      const x = v[i * n + j];
      if (x !== v[j * n + i]) symmetric = false;
      min = Math.min(min, x); max = Math.max(max, x); sum += x; unique.add(x);
    }
  }
  const pairs = (n * (n - 1)) / 2;
  return { n, min, max, mean: sum / pairs, uniqueOffDiagonal: unique.size, pairs, symmetric, zeroDiagonal };
}

/** Default place of the contact sheet: beside the data directory, never inside it (it may be a cache entry). */
export function defaultSheetPath(dir: string): string {
  const abs = resolve(dir);
  return join(dirname(abs), `${basename(abs)}.contact-sheet.png`);
}

/** A grid of `count` evenly spaced training images (or the first split that has any), each scaled to `tile` px. */
export async function contactSheet(dir: string, file: string, count = 48, tile = 96, columns = 8): Promise<string | undefined> {
  const ds = openDataset(dir);
  const name = SPLITS.find((s) => ds.manifest.counts[s] > 0 && ds.manifest.storage[s]);
  if (!name) return undefined;
  const view = ds.split(name);
  if (!view.inMemory) return undefined;
  const rows = view.rows();
  const n = Math.min(count, view.count);
  const tiles = await Promise.all(Array.from({ length: n }, async (_, k) => {
    const r = Math.floor((k * view.count) / n);
    const img = rows.images;
    const [h, w, data] = img.kind === 'fixed'
      ? [(view.storage as { height: number }).height, (view.storage as { width: number }).width, img.data.subarray(r * img.bytesPerRow, (r + 1) * img.bytesPerRow)]
      : [img.heights[r], img.widths[r], img.data.subarray(img.offsets[r], img.offsets[r + 1])];
    // small images are blown up with nearest neighbour so their pixels stay visible
    const input = await sharp(Buffer.from(data.buffer, data.byteOffset, data.length), { raw: { width: w, height: h, channels: 3 } })
      .resize(tile, tile, { fit: 'cover', kernel: Math.max(h, w) < tile ? 'nearest' : 'lanczos3' }).png().toBuffer();
    return { input, left: (k % columns) * (tile + 2) + 2, top: Math.floor(k / columns) * (tile + 2) + 2 };
  }));
  const gridRows = Math.ceil(n / columns);
  await sharp({ create: { width: columns * (tile + 2) + 2, height: gridRows * (tile + 2) + 2, channels: 3, background: { r: 20, g: 20, b: 20 } } })
    .composite(tiles).png().toFile(file);
  return file;
}

export async function inspectDataset(dir: string, opts: { sheet?: string | false } = {}): Promise<Inspection> {
  const ds = openDataset(dir);
  const m = ds.manifest;
  const sampleIds: Inspection['sampleIds'] = {};
  for (const s of SPLITS) if (m.counts[s] > 0 && m.storage[s] && ds.split(s).inMemory) sampleIds[s] = ds.split(s).ids.slice(0, 3);
  const sheet = opts.sheet === false ? undefined : await contactSheet(dir, opts.sheet ?? defaultSheetPath(dir));
  return {
    dir: resolve(dir), kind: m.kind, counts: m.counts, image: m.image, storage: m.storage, normalization: m.normalization,
    targetDim: m.targetDim, classes: m.classes?.length, shards: m.shards.length, bytes: m.shards.reduce((a, s) => a + s.bytes, 0),
    sampleIds, rdm: ds.humanRdm && rdmStats(ds.humanRdm.n, ds.humanRdm.values), prompts: ds.prompts?.length, corrupt: m.corrupt.length,
    contactSheet: sheet,
  };
}

export function formatInspection(r: Inspection): string {
  const lines = [
    `${r.dir} (${r.kind})`,
    `  counts   train ${r.counts.train}, val ${r.counts.val}, test ${r.counts.test}; ${r.shards} shards, ${(r.bytes / 2 ** 20).toFixed(1)} MiB`,
    `  image    ${r.image.height}x${r.image.width}x${r.image.channels}; storage ${JSON.stringify(r.storage)}`,
    `  normalise mean ${r.normalization.mean.map((x) => x.toFixed(4)).join(', ')}  std ${r.normalization.std.map((x) => x.toFixed(4)).join(', ')}`,
  ];
  if (r.targetDim) lines.push(`  targets  ${r.targetDim}-d${r.prompts ? `, ${r.prompts} prompts` : ''}`);
  if (r.classes) lines.push(`  classes  ${r.classes}`);
  for (const [s, ids] of Object.entries(r.sampleIds)) lines.push(`  ${s.padEnd(8)} ${ids.join(', ')}, ...`);
  if (r.rdm) {
    const d = r.rdm;
    lines.push(`  human RDM ${d.n}x${d.n}: off-diagonal ${d.min.toFixed(4)}..${d.max.toFixed(4)}, mean ${d.mean.toFixed(4)}, ${d.uniqueOffDiagonal} distinct of ${d.pairs}; ${d.symmetric ? 'symmetric' : 'NOT symmetric'}, ${d.zeroDiagonal ? 'zero diagonal' : 'NON-zero diagonal'}`);
  }
  if (r.corrupt) lines.push(`  corrupt  ${r.corrupt} images skipped (listed in manifest.json)`);
  if (r.contactSheet) lines.push(`  sheet    ${r.contactSheet}`);
  return lines.join('\n');
}
