import { join } from 'node:path';
import type { ShardEntry, SplitName } from './manifest.js';
import { writeShard, type ShardRows } from './shards.js';

/** Rows per shard for fixed-size sets: ~75 MB at 224x224, small enough to write without a memory spike. */
export const ROWS_PER_SHARD = 512;

/** Writes `rows` (already in their final order) as `<split>-NNNNN.arrow` shards of at most `perShard` rows. */
export function writeFixedSplit(outDir: string, split: SplitName, rows: Omit<ShardRows, 'split'>, perShard = ROWS_PER_SHARD): ShardEntry[] {
  const n = rows.ids.length;
  const img = rows.images;
  if (img.kind !== 'fixed') throw new Error('writeFixedSplit: fixed-size images only');
  const bytes = img.height * img.width * 3;
  const entries: ShardEntry[] = [];
  for (let s = 0, k = 0; s < n || (n === 0 && k === 0); s += perShard, k++) {
    const e = Math.min(n, s + perShard);
    const file = `${split}-${String(k).padStart(5, '0')}.arrow`;
    const written = writeShard(join(outDir, file), {
      ids: rows.ids.slice(s, e),
      split,
      images: { ...img, data: img.data.subarray(s * bytes, e * bytes) },
      targets: rows.targets && { dim: rows.targets.dim, data: rows.targets.data.subarray(s * rows.targets.dim, e * rows.targets.dim) },
      labels: rows.labels?.subarray(s, e),
      captions: rows.captions?.slice(s, e),
    });
    entries.push({ file, split, rows: e - s, ...written });
    if (n === 0) break;
  }
  return entries;
}
