import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Float64, Int32, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import { z } from 'zod';
import { UserError, defineStage, singleInput } from '@lw/core';
import { readFeaturesArrow, readRdmArrow } from './arrow-io.js';
import { checkFeatures } from './check-features.js';
import { toHumanRdm, rsa, type HumanRdm, type RsaResult } from './rsa.js';

/**
 * Stage `eval/rsa`: scores every saved epoch of a training run (`embeddings/epoch{N}.arrow`) against
 * the human RDM of a data set (`human_rdm.arrow`), and writes `rsa.csv` + `rsa.arrow`
 * (epoch, rho, p, n_pairs, p_perm, ci_low, ci_high). Its params are also the method flags of `lw rsa`.
 */

export const rsaParams = z.object({
  metric: z.enum(['correlation', 'cosine', 'euclidean']).default('correlation')
    .describe('Model RDM dissimilarity; correlation (1 - Pearson) is the study\'s.'),
  compare: z.enum(['spearman', 'pearson', 'kendall']).default('spearman')
    .describe('RDM comparison; spearman with average ranks is the study\'s.'),
  permutations: z.number().int().min(0).default(0).describe('Stimulus permutations for p_perm; 0 = none.'),
  bootstrap: z.number().int().min(0).default(0).describe('Stimulus bootstrap resamples for a 95% CI; 0 = none.'),
  seed: z.number().int().default(0).describe('Seed of the permutation and bootstrap streams.'),
}).strict();
export type RsaParams = z.output<typeof rsaParams>;

/** Epoch numbers of `<dir>/embeddings/epoch{N}.arrow`, ascending. */
export function embeddingEpochs(runDir: string): number[] {
  const dir = join(runDir, 'embeddings');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new UserError(`${dir}: no embeddings folder`, 'the run input must be a training task that writes embeddings/epoch{N}.arrow');
  }
  return names.map((f) => /^epoch(\d+)\.arrow$/.exec(f)).filter((m) => m !== null).map((m) => Number(m![1])).sort((a, b) => a - b);
}

/** Throws unless both id lists (when present) agree row by row. */
export function checkSameStimuli(featureIds: string[] | undefined, human: HumanRdm, featureSource: string): void {
  if (!featureIds || !human.ids) return;
  if (featureIds.length !== human.ids.length) return;
  const i = featureIds.findIndex((id, k) => id !== human.ids![k]);
  if (i >= 0) {
    throw new UserError(`${featureSource}: row ${i + 1} is stimulus "${featureIds[i]}" but row ${i + 1} of ${human.source} is "${human.ids[i]}"`,
      'features must be in the human RDM\'s stimulus order');
  }
}

type Row = { epoch: number } & RsaResult;

function csvNumber(v: number | undefined): string {
  return v === undefined ? '' : String(v);
}

function writeResults(outDir: string, rows: Row[]): void {
  const header = 'epoch,rho,p,n_pairs,p_perm,ci_low,ci_high';
  const lines = rows.map((r) => [r.epoch, r.rho, r.p, r.nPairs, csvNumber(r.pPerm), csvNumber(r.ci?.[0]), csvNumber(r.ci?.[1])].join(','));
  writeFileSync(join(outDir, 'rsa.csv'), [header, ...lines].join('\n') + '\n');
  const orNull = (v: number | undefined) => (v === undefined ? null : v);
  const table = new Table({
    epoch: vectorFromArray(rows.map((r) => r.epoch), new Int32()),
    rho: vectorFromArray(rows.map((r) => r.rho), new Float64()),
    p: vectorFromArray(rows.map((r) => r.p), new Float64()),
    n_pairs: vectorFromArray(rows.map((r) => r.nPairs), new Int32()),
    p_perm: vectorFromArray(rows.map((r) => orNull(r.pPerm)), new Float64()),
    ci_low: vectorFromArray(rows.map((r) => orNull(r.ci?.[0])), new Float64()),
    ci_high: vectorFromArray(rows.map((r) => orNull(r.ci?.[1])), new Float64()),
  });
  writeFileSync(join(outDir, 'rsa.arrow'), tableToIPC(table, 'file'));
}

export const rsaStage = defineStage({
  id: 'eval/rsa',
  description: 'RSA of every saved epoch of a training run against the human RDM of a stimulus set',
  packageName: '@lw/eval',
  params: rsaParams,
  inputs: {
    run: { description: 'a training task with embeddings/epoch{N}.arrow', accepts: ['train/behavior', 'train/classify'], arity: 'one' },
    data: { description: 'a data task with human_rdm.arrow', arity: 'one' },
  },
  async run(ctx) {
    const run = singleInput(ctx.inputs, 'run', 'eval/rsa'), data = singleInput(ctx.inputs, 'data', 'eval/rsa');
    const rdmPath = join(data.dir, 'human_rdm.arrow');
    const { full, ids } = readRdmArrow(rdmPath);
    const human = toHumanRdm(full, rdmPath, ids);
    const epochs = embeddingEpochs(run.dir);
    if (epochs.length === 0) throw new UserError(`${join(run.dir, 'embeddings')}: no epoch{N}.arrow files`, 'train the run first');
    const rows: Row[] = [];
    for (const [k, epoch] of epochs.entries()) {
      if (ctx.signal.aborted) throw new Error('eval/rsa cancelled');
      const path = join(run.dir, 'embeddings', `epoch${epoch}.arrow`);
      const f = readFeaturesArrow(path);
      if (f.n !== human.n) throw new UserError(`${path}: ${f.n} stimuli, but ${rdmPath} has ${human.n}`, 'embeddings must cover the RSA stimuli of the data set');
      checkSameStimuli(f.ids, human, path);
      checkFeatures(f.features, f.n, f.d, ctx.params.metric, path, f.ids);
      rows.push({ epoch, ...rsa(f.features, f.n, f.d, human, ctx.params) });
      ctx.progress(k + 1, epochs.length, `epoch ${epoch}`);
    }
    writeResults(ctx.outDir, rows);
    const best = rows.reduce((a, b) => (b.rho > a.rho ? b : a));
    ctx.log(`eval/rsa: ${rows.length} epochs; best rho ${best.rho} at epoch ${best.epoch}`);
    return { epochs: rows.length, bestEpoch: best.epoch, bestRho: best.rho, lastRho: rows[rows.length - 1].rho };
  },
});

