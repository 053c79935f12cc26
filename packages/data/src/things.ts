import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { ProgressLine, Rng, UserError, sha256 } from '@lw/core';
import { z } from 'zod';
import { decodeResized } from './decode.js';
import { fingerprintFile } from './fingerprint.js';
import { validateRdm, writeHumanRdm } from './human-rdm.js';
import { writeManifest, type Manifest, type SplitName } from './manifest.js';
import { boundedMap } from './pool.js';
import { requireInputFile } from './readers/input-file.js';
import { readEmbedding, readNameList, readRdmMatrix, readTestIndex } from './readers/tables.js';
import { seededSplit } from './split.js';
import { writeFixedSplit } from './write-split.js';

/** THINGS normalisation constants of the study (method §2.4), not CLIP's. */
export const THINGS_MEAN: [number, number, number] = [0.52997664, 0.48070561, 0.41943838];
export const THINGS_STD: [number, number, number] = [0.27608301, 0.26593025, 0.28238822];

/** THINGS' object concepts: one SPoSE embedding row and one reference image each. */
export const THINGS_IMAGES = 1854;

export const ThingsParams = z.object({
  images: z.string().describe('folder of THINGS object_images (flat, or one sub-folder per concept)'),
  embeddings: z.string().describe('SPoSE embedding: the rescaled CSV (`,image_name,0..65`) or spose_embedding_66d_sorted.txt with `names`'),
  names: z.string().optional().describe('image name list (things1854_image_names.csv); required for the .txt embedding, checked against the CSV'),
  testIndex: z.string().describe('the test items in RDM order: triplet48_index.npy or the 48val_reordered CSV'),
  humanRdm: z.string().describe('human RDM: RDM48_triplet.mat (MATLAB v5), .npy, .csv or .arrow'),
  rdmVariable: z.string().optional().describe('variable name inside the .mat file (default: its only 2-D matrix)'),
  prompts: z.string().optional().describe('the 66 dimension prompts, one a line, copied to prompts.txt'),
  size: z.number().int().min(8).max(1024).default(224).describe('output side: anisotropic resize, no crop (method §2.4)'),
  seed: z.number().int().default(1).describe('seed of the train/val split'),
  trainFraction: z.number().gt(0).lt(1).default(0.8).describe('int(0.8 * 1806) = 1444 train, 362 val'),
  splitFile: z.string().optional().describe('JSON {train_indices, test_indices} into the non-test rows (the study\'s dataset_split_indices layout), instead of the seeded split; packages/data/splits/things1806-torch-seed1.json is torch\'s random_split after manual_seed(1)'),
  concurrency: z.number().int().positive().default(Math.max(2, availableParallelism())).describe('images decoded at once'),
});
export type ThingsParams = z.infer<typeof ThingsParams>;

export interface PrepareHooks {
  progress?: (done: number, total: number) => void;
  log?: (message: string) => void;
  signal?: AbortSignal;
  /** How errors name a param: the CLI passes its flag (`--test-index`); by default the param's name. */
  label?: (param: keyof ThingsParams) => string;
}

/** The params that name files, in the order they are read. */
const FILE_PARAMS = ['names', 'embeddings', 'testIndex', 'humanRdm', 'prompts', 'splitFile'] as const;

/** Every file under `dir` by base name; THINGS ships flat or in concept folders. */
function indexImages(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  let entries;
  try { entries = readdirSync(dir, { recursive: true, withFileTypes: true }); } catch (e) {
    throw new UserError(`${dir}: cannot list the image folder (${(e as Error).message})`);
  }
  for (const e of entries) if (e.isFile()) out.set(e.name, join(e.parentPath, e.name));
  return out;
}

const SplitFile = z.object({ train_indices: z.array(z.number().int().nonnegative()), test_indices: z.array(z.number().int().nonnegative()) });

/** A given train/val split; `test_indices` is the study's name for the validation rows. Both must partition 0..n-1. */
function readSplitFile(file: string, n: number): { train: Int32Array; val: Int32Array } {
  let parsed;
  try { parsed = SplitFile.parse(JSON.parse(readFileSync(file, 'utf8'))); } catch (e) {
    throw new UserError(`${file}: not a split file (${(e as Error).message.split('\n')[0]})`, 'expected JSON {"train_indices": [...], "test_indices": [...]} with indices into the non-test rows');
  }
  const seen = new Uint8Array(n);
  for (const [name, list] of [['train_indices', parsed.train_indices], ['test_indices', parsed.test_indices]] as const) {
    for (const i of list) {
      if (i >= n) throw new UserError(`${file}: ${name} holds ${i}, outside 0..${n - 1}`);
      if (seen[i]++) throw new UserError(`${file}: index ${i} appears twice`);
    }
  }
  const missing = seen.indexOf(0);
  if (missing >= 0) throw new UserError(`${file}: index ${missing} is in neither list`, `the two lists must cover all ${n} non-test rows`);
  return { train: Int32Array.from(parsed.train_indices).sort(), val: Int32Array.from(parsed.test_indices).sort() };
}

export async function prepareThings(params: z.input<typeof ThingsParams>, outDir: string, hooks: PrepareHooks = {}): Promise<Manifest> {
  const p = ThingsParams.parse(params);
  const label = hooks.label ?? ((param) => param);
  for (const param of FILE_PARAMS) {
    const file = p[param];
    if (file !== undefined) requireInputFile(file, label(param), ThingsParams.shape[param].description ?? param);
  }
  const names = p.names ? readNameList(p.names) : undefined;
  const emb = readEmbedding(p.embeddings, names);
  // With a name list the reader checks the rows against it; without, only the count can tell a cut file.
  if (!names && emb.names.length !== THINGS_IMAGES) {
    throw new UserError(`${p.embeddings}: ${emb.names.length} embedding rows, expected ${THINGS_IMAGES} (one per THINGS image)`,
      `the file looks cut short or padded: the study's spose_embedding66d_rescaled.csv has ${THINGS_IMAGES} rows after its header`);
  }
  const all = emb.names;
  const dup = all.find((n, i) => all.indexOf(n) !== i);
  if (dup) throw new UserError(`${p.embeddings}: image "${dup}" appears twice`);
  const testIdx = readTestIndex(p.testIndex, all);
  const rdm = readRdmMatrix(p.humanRdm, p.rdmVariable);
  if (rdm.n !== testIdx.length) throw new UserError(`${p.humanRdm}: RDM is ${rdm.n}x${rdm.n} but ${p.testIndex} lists ${testIdx.length} test items`);
  const testIds = testIdx.map((i) => all[i]);
  validateRdm({ ids: testIds, n: rdm.n, values: rdm.values }, p.humanRdm);
  const prompts = p.prompts ? readFileSync(p.prompts, 'utf8').split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0) : undefined;
  if (prompts && prompts.length !== emb.dim) throw new UserError(`${p.prompts}: ${prompts.length} prompts for ${emb.dim} embedding dimensions`, 'one prompt per line, in target-column order');

  const files = indexImages(p.images);
  const missing = all.filter((n) => !files.has(n));
  if (missing.length) {
    throw new UserError(`${p.images}: ${missing.length} of ${all.length} images are missing, e.g. ${missing.slice(0, 5).join(', ')}`, 'point --images at THINGS object_images (file names as in things1854_image_names.csv)');
  }

  const isTest = new Set(testIdx);
  const pool = all.map((_, i) => i).filter((i) => !isTest.has(i));
  const split = p.splitFile ? readSplitFile(p.splitFile, pool.length) : seededSplit(pool.length, p.trainFraction, new Rng(p.seed, 'things', 'split'));
  const order: Record<SplitName, number[]> = { train: Array.from(split.train, (k) => pool[k]), val: Array.from(split.val, (k) => pool[k]), test: testIdx };
  hooks.log?.(`things: ${order.train.length} train, ${order.val.length} val, ${order.test.length} test at ${p.size}x${p.size}`);

  mkdirSync(outDir, { recursive: true });
  const bytes = p.size * p.size * 3;
  // [row in all] -> pixels; decoded in parallel, placed by split position
  const where = new Map<number, { split: SplitName; pos: number }>();
  (Object.keys(order) as SplitName[]).forEach((s) => order[s].forEach((i, pos) => where.set(i, { split: s, pos })));
  const pixels: Record<SplitName, Uint8Array> = { train: new Uint8Array(order.train.length * bytes), val: new Uint8Array(order.val.length * bytes), test: new Uint8Array(order.test.length * bytes) };
  const imageHashes = new Array<string>(all.length);
  let imageBytes = 0, decoded = 0;
  const progress = new ProgressLine({ label: 'things: decode + resize', total: all.length });
  await boundedMap(all.length, p.concurrency, async (i) => {
    const path = files.get(all[i])!;
    const buf = readFileSync(path);
    imageHashes[i] = sha256(buf);
    imageBytes += buf.length;
    try {
      return await decodeResized(buf, p.size, p.size);
    } catch (e) {
      throw new UserError(`${path}: cannot decode image ${all[i]} (${(e as Error).message})`, 'replace the file with a readable JPEG/PNG');
    }
  }, (i, img) => {
    const { split: s, pos } = where.get(i)!;
    pixels[s].set(img.data, pos * bytes);
    progress.tick();
    hooks.progress?.(++decoded, all.length);
  }, hooks.signal);
  progress.finish();

  const targetsOf = (idx: number[]) => {
    const t = new Float32Array(idx.length * emb.dim);
    idx.forEach((i, r) => { for (let k = 0; k < emb.dim; k++) t[r * emb.dim + k] = emb.values[i * emb.dim + k]; });
    return t;
  };
  const shards = (Object.keys(order) as SplitName[]).flatMap((s) => writeFixedSplit(outDir, s, {
    ids: order[s].map((i) => all[i]),
    images: { kind: 'fixed', height: p.size, width: p.size, data: pixels[s] },
    targets: { dim: emb.dim, data: targetsOf(order[s]) },
  }));
  const rdmHash = writeHumanRdm(join(outDir, 'human_rdm.arrow'), { ids: testIds, n: rdm.n, values: rdm.values });
  if (prompts) writeFileSync(join(outDir, 'prompts.txt'), prompts.join('\n') + '\n');

  const sources = await Promise.all([
    fingerprintFile(p.embeddings, 'embeddings'), fingerprintFile(p.testIndex, 'testIndex'), fingerprintFile(p.humanRdm, 'humanRdm'),
    ...(p.names ? [fingerprintFile(p.names, 'names')] : []), ...(p.prompts ? [fingerprintFile(p.prompts, 'prompts')] : []),
    ...(p.splitFile ? [fingerprintFile(p.splitFile, 'splitFile')] : []),
  ]);
  sources.push({ name: 'images', path: resolve(p.images), bytes: imageBytes, sha256: sha256(all.map((n, i) => `${n}\t${imageHashes[i]}`).join('\n')) });

  const manifest: Manifest = {
    format: 'lw-data/1',
    kind: 'things',
    counts: { train: order.train.length, val: order.val.length, test: order.test.length },
    image: { height: p.size, width: p.size, channels: 3 },
    storage: { train: { kind: 'fixed', height: p.size, width: p.size }, val: { kind: 'fixed', height: p.size, width: p.size }, test: { kind: 'fixed', height: p.size, width: p.size } },
    normalization: { mean: THINGS_MEAN, std: THINGS_STD },
    targetDim: emb.dim,
    shards,
    humanRdm: { file: 'human_rdm.arrow', n: rdm.n, sha256: rdmHash.sha256 },
    prompts: prompts ? 'prompts.txt' : undefined,
    sources,
    corrupt: [],
    params: { ...p, concurrency: undefined },
    createdBy: '@lw/data data/things',
  };
  writeManifest(outDir, manifest);
  return manifest;
}
