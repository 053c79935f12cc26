import { rmSync } from 'node:fs';
import { UserError } from '@lw/core';
import type { Cache } from './cache.js';

/**
 * `lw gc`: drop entries not reachable from the kept pipeline files and, past a size budget, the
 * oldest remaining entries first (kept ones are never dropped). Also drops their specs, logs and
 * scratch dirs.
 */
export interface GcResult {
  removed: string[];
  keptBytes: number;
  freedBytes: number;
}

export function gc(cache: Cache, opts: { keep?: Set<string>; maxBytes?: number; dryRun?: boolean }): GcResult {
  const entries = cache.keys().map((key) => ({ key, ...cache.entryStats(key) }));
  const removed = new Set<string>();
  if (opts.keep) for (const e of entries) if (!opts.keep.has(e.key)) removed.add(e.key);
  if (opts.maxBytes !== undefined) {
    let total = entries.filter((e) => !removed.has(e.key)).reduce((s, e) => s + e.bytes, 0);
    for (const e of [...entries].sort((a, b) => a.mtimeMs - b.mtimeMs)) {
      if (total <= opts.maxBytes) break;
      if (removed.has(e.key) || opts.keep?.has(e.key)) continue;
      removed.add(e.key);
      total -= e.bytes;
    }
  }
  let freed = 0;
  for (const e of entries) {
    if (!removed.has(e.key)) continue;
    freed += e.bytes;
    if (opts.dryRun) continue;
    cache.remove(e.key);
    for (const p of [cache.specPath(e.key), cache.logPath(e.key), cache.scratchDir(e.key)]) rmSync(p, { recursive: true, force: true });
  }
  const keptBytes = entries.filter((e) => !removed.has(e.key)).reduce((s, e) => s + e.bytes, 0);
  return { removed: [...removed], keptBytes, freedBytes: freed };
}

/** `10G`, `500M`, `1.5T`, `2048` (bytes); powers of 1024. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$/i.exec(text);
  if (!m) throw new UserError(`--max-size ${text}: not a size`, 'write a number of bytes or a size such as 500M, 10G, 1.5T');
  const power = ' KMGT'.indexOf((m[2] || ' ').toUpperCase());
  return Math.floor(Number(m[1]) * 1024 ** power);
}
