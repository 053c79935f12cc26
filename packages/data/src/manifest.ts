import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@lw/core';
import { z } from 'zod';

/**
 * `manifest.json`: what a prepared data directory holds. Every reader validates it with this schema,
 * so a directory written by an older or foreign tool fails loudly, naming the field.
 */

export const SPLITS = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

const rgb = z.tuple([z.number(), z.number(), z.number()]);

/**
 * How the `image` column stores pixels. Always raw uint8 RGB, row-major `[height, width, 3]`
 * (HWC, no padding). `fixed`: every row is `FixedSizeBinary(height*width*3)`. `short-side`: rows
 * differ in size (ImageNet train, aspect kept), so the column is `Binary` and the shard has int32
 * `height` and `width` columns.
 */
export const ImageStorage = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fixed'), height: z.number().int().positive(), width: z.number().int().positive() }),
  z.object({ kind: z.literal('short-side'), shortSide: z.number().int().positive() }),
]);
export type ImageStorage = z.infer<typeof ImageStorage>;

export const ShardEntry = z.object({
  file: z.string(),
  split: z.enum(SPLITS),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ShardEntry = z.infer<typeof ShardEntry>;

export const SourceFingerprint = z.object({ name: z.string(), path: z.string(), bytes: z.number().int(), sha256: z.string() });
export type SourceFingerprint = z.infer<typeof SourceFingerprint>;

export const Manifest = z.object({
  format: z.literal('lw-data/1'),
  kind: z.enum(['toy', 'things', 'imagenet']),
  counts: z.object({ train: z.number().int().nonnegative(), val: z.number().int().nonnegative(), test: z.number().int().nonnegative() }),
  /** The size batches come out at by default (the model's input), `[height, width, 3]`. */
  image: z.object({ height: z.number().int().positive(), width: z.number().int().positive(), channels: z.literal(3) }),
  /** Per split: how the `image` column is laid out (see ImageStorage). */
  storage: z.partialRecord(z.enum(SPLITS), ImageStorage),
  /** Applied by readers as (pixel/255 - mean) / std per channel, RGB order. */
  normalization: z.object({ mean: rgb, std: rgb }),
  /** Length of the `target` column's lists (66 for THINGS-like sets); absent when there are no targets. */
  targetDim: z.number().int().positive().optional(),
  /** Class names indexed by the `label` column (synset ids for ImageNet, shape names for toy). */
  classes: z.array(z.string()).optional(),
  shards: z.array(ShardEntry),
  humanRdm: z.object({ file: z.string(), n: z.number().int().positive(), sha256: z.string() }).optional(),
  prompts: z.string().optional(),
  vocab: z.string().optional(),
  sources: z.array(SourceFingerprint),
  /** Images that could not be decoded and were skipped. */
  corrupt: z.array(z.object({ path: z.string(), reason: z.string() })).default([]),
  params: z.record(z.string(), z.unknown()),
  createdBy: z.string(),
});
export type Manifest = z.infer<typeof Manifest>;

export const MANIFEST_FILE = 'manifest.json';

export function readManifest(dir: string): Manifest {
  const file = join(dir, MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: cannot read the data manifest (${(e as Error).message})`, 'point at a directory written by `lw data things|imagenet|toy`');
  }
  const parsed = Manifest.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`${file}: field "${issue.path.join('.')}": ${issue.message}`, 'rewrite the directory with the current `lw data` command');
  }
  return parsed.data;
}

export function writeManifest(dir: string, manifest: Manifest): void {
  writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(Manifest.parse(manifest), null, 2) + '\n');
}
