import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '@lw/core';
import { readListColumnArrow } from './arrow-io.js';
import type { FeatureMatrix } from './cka.js';

/**
 * The human embedding of a prepared data directory's RSA stimuli: the `target` column (SPoSE
 * dimensions, 66 for THINGS) of its test-split shards, in manifest order, which is the order of
 * its `human_rdm.arrow`. CKA compares a model with this embedding, as RSA compares it with the RDM.
 * Only the manifest fields read here are checked; @lw/data owns the full schema.
 */

const manifestFields = z.object({
  format: z.literal('lw-data/1'),
  targetDim: z.number().int().positive().optional(),
  shards: z.array(z.object({ file: z.string(), split: z.string() })),
});

export function readHumanEmbedding(dataDir: string): FeatureMatrix & { ids: string[] } {
  const manifestPath = join(dataDir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new UserError(`${dataDir}: no manifest.json`, 'the data input must be a prepared data directory (a data/* task)');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (e) {
    throw new UserError(`${manifestPath}: not JSON (${(e as Error).message})`, 'prepare the data set again');
  }
  const parsed = manifestFields.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`${manifestPath}: field ${issue.path.join('.') || '(root)'}: ${issue.message}`, 'expected an lw-data/1 manifest');
  }
  const m = parsed.data;
  if (m.targetDim === undefined) {
    throw new UserError(`${manifestPath}: the data set has no targets (no targetDim)`, 'CKA against the human embedding needs a THINGS-like set with a target column (data/things or data/toy)');
  }
  const shards = m.shards.filter((s) => s.split === 'test');
  if (shards.length === 0) throw new UserError(`${manifestPath}: no test-split shards`, 'the RSA stimuli are the test split');
  const parts = shards.map((s) => readListColumnArrow(join(dataDir, s.file), 'target'));
  const n = parts.reduce((a, p) => a + p.rows, 0), d = m.targetDim;
  const features = new Float64Array(n * d);
  const ids: string[] = [];
  let row = 0;
  for (const [k, p] of parts.entries()) {
    if (p.width !== d) throw new UserError(`${join(dataDir, shards[k].file)}: target has ${p.width} values per row, manifest targetDim is ${d}`, 'prepare the data set again');
    features.set(p.values, row * d);
    ids.push(...(p.ids ?? Array.from({ length: p.rows }, (_, i) => `${shards[k].file}#${i}`)));
    row += p.rows;
  }
  return { features, n, d, ids, name: 'human embedding' };
}
