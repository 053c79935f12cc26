import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { listFiles } from './fingerprint.js';
import { stampRecords, statTree } from './entry-stat.js';

/**
 * An entry's `checksums.json`: sha256, size and mtime of every output file, recorded at publish.
 * `checkEntry` compares an entry against it: by default a file whose size and mtime still match is
 * taken as unchanged (the fast path: a stat per file) and only the others are hashed; `full`
 * hashes every file (`lw verify`). Entries published before mtimes were recorded are always hashed.
 */
export const RESERVED = ['task.json', 'checksums.json', 'result.json'];

export const ManifestSchema = z.object({
  files: z.record(
    z.string(),
    z.object({
      sha256: z.string(),
      size: z.number(),
      /** mtime in ns (a decimal string: it does not fit a double) at publish time. */
      mtimeNs: z.string().regex(/^\d+$/).optional(),
    }),
  ),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export function hashFile(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export function manifestOf(dir: string): Manifest {
  const files: Manifest['files'] = {};
  for (const f of listFiles(dir)) {
    if (RESERVED.includes(f)) continue;
    const p = join(dir, f);
    const sha256 = hashFile(p);
    const st = statSync(p, { bigint: true });
    files[f] = { sha256, size: Number(st.size), mtimeNs: String(st.mtimeNs) };
  }
  return { files };
}

export interface EntryCheck {
  /** Files that do not match: changed, missing, or not listed; or the manifest/task.json itself. */
  bad: string[];
  /** When nothing was bad: the stats of its files and dirs as checked, for the run stamp. */
  stamp?: [string, string][];
}

export function checkEntry(dir: string, opts: { full?: boolean } = {}): EntryCheck {
  let manifest: Manifest;
  try {
    manifest = ManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'checksums.json'), 'utf8')));
  } catch {
    return { bad: ['checksums.json'] };
  }
  if (!existsSync(join(dir, 'task.json'))) return { bad: ['task.json'] };
  const tree = statTree(dir);
  const stats = tree.files;
  const bad: string[] = [];
  for (const [file, want] of Object.entries(manifest.files)) {
    const st = stats.get(file);
    if (!st || st.size !== BigInt(want.size)) bad.push(file);
    else if (!opts.full && want.mtimeNs !== undefined && st.mtimeNs === BigInt(want.mtimeNs)) continue;
    else if (hashFile(join(dir, file)) !== want.sha256) bad.push(file);
  }
  const extra = [...stats.keys()].filter((f) => !RESERVED.includes(f) && !Object.hasOwn(manifest.files, f)).sort();
  bad.push(...extra);
  return bad.length ? { bad } : { bad, stamp: stampRecords(dir, tree, RESERVED) };
}
