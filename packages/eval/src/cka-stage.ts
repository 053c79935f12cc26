import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Bool, Float64, Int32, Table, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import { z } from 'zod';
import { UserError, defineStage, singleInput, writeJsonFile } from '@lw/core';
import { readFeaturesArrow, readRdmArrow } from './arrow-io.js';
import { centeredGram, ckaFromGrams, CKA_DEFAULT_SIGMA, type CkaOptions } from './cka.js';
import { readHumanEmbedding } from './human-embedding.js';
import { checkSameStimuli, embeddingEpochs } from './stages.js';
import { toHumanRdm } from './rsa.js';

/**
 * Stage `eval/cka`: CKA (Kornblith et al. 2019) of every saved epoch of a training run
 * (`embeddings/epoch{N}.arrow`) with the human embedding of a data set (the test split's `target`
 * column: SPoSE dimensions in RDM order), beside eval/rsa. Writes `cka.csv` + `cka.arrow`
 * (epoch, kernel, unbiased, cka, sigma, sigma_model, sigma_human, n), and `run.json` naming the run it
 * scored (stage, key, seed), so a report can put each run's CKA beside its RSA. Its params are also `lw cka`'s.
 */

/** `run.json`: which training task an eval/cka task scored. */
export const CKA_RUN_FILE = 'run.json';
export const CkaRunInfo = z.object({
  stage: z.string(),
  key: z.string(),
  /** The run's params.seed; null when it has none. */
  seed: z.number().int().nullable(),
});
export type CkaRunInfo = z.infer<typeof CkaRunInfo>;

export const ckaParams = z.object({
  kernel: z.enum(['linear', 'rbf']).default('linear').describe('Gram kernel: linear (X X\') or RBF'),
  sigma: z.number().positive().default(CKA_DEFAULT_SIGMA)
    .describe('RBF bandwidth as a fraction of the median distance between stimuli, each side its own (Kornblith et al.: 0.2, 0.4, 0.8)'),
  sigmaAbsolute: z.number().positive().optional().describe('RBF bandwidth in feature units for both sides (thingsvision\'s sigma); overrides sigma'),
  unbiased: z.boolean().default(false).describe('Unbiased HSIC estimator (Song et al. 2012); needs at least 4 stimuli'),
}).strict();
export type CkaParams = z.output<typeof ckaParams>;

export function ckaOptions(p: CkaParams): CkaOptions {
  return { kernel: p.kernel, sigma: p.sigma, sigmaAbsolute: p.sigmaAbsolute, unbiased: p.unbiased };
}

export interface CkaRow {
  epoch: number;
  kernel: string;
  unbiased: boolean;
  cka: number;
  /** RBF with a relative bandwidth: the fraction; else undefined. */
  sigma?: number;
  sigmaModel?: number;
  sigmaHuman?: number;
  n: number;
}

const CKA_COLUMNS = 'epoch,kernel,unbiased,cka,sigma,sigma_model,sigma_human,n';
const cell = (v: number | undefined) => (v === undefined ? '' : String(v));

export function writeCkaResults(outDir: string, rows: CkaRow[]): void {
  const lines = rows.map((r) => [r.epoch, r.kernel, r.unbiased, r.cka, cell(r.sigma), cell(r.sigmaModel), cell(r.sigmaHuman), r.n].join(','));
  writeFileSync(join(outDir, 'cka.csv'), [CKA_COLUMNS, ...lines].join('\n') + '\n');
  const orNull = (v: number | undefined) => (v === undefined ? null : v);
  const table = new Table({
    epoch: vectorFromArray(rows.map((r) => r.epoch), new Int32()),
    kernel: vectorFromArray(rows.map((r) => r.kernel), new Utf8()),
    unbiased: vectorFromArray(rows.map((r) => r.unbiased), new Bool()),
    cka: vectorFromArray(rows.map((r) => r.cka), new Float64()),
    sigma: vectorFromArray(rows.map((r) => orNull(r.sigma)), new Float64()),
    sigma_model: vectorFromArray(rows.map((r) => orNull(r.sigmaModel)), new Float64()),
    sigma_human: vectorFromArray(rows.map((r) => orNull(r.sigmaHuman)), new Float64()),
    n: vectorFromArray(rows.map((r) => r.n), new Int32()),
  });
  writeFileSync(join(outDir, 'cka.arrow'), tableToIPC(table, 'file'));
}

export const ckaStage = defineStage({
  id: 'eval/cka',
  description: 'CKA of every saved epoch of a training run with the human embedding of a stimulus set',
  packageName: '@lw/eval',
  params: ckaParams,
  inputs: {
    run: { description: 'a training task with embeddings/epoch{N}.arrow', accepts: ['train/behavior', 'train/classify'], arity: 'one' },
    data: { description: 'a data task whose test split has a target column (the human embedding)', arity: 'one' },
  },
  async run(ctx) {
    const run = singleInput(ctx.inputs, 'run', 'eval/cka'), data = singleInput(ctx.inputs, 'data', 'eval/cka');
    const human = readHumanEmbedding(data.dir);
    // The embedding rows must be the RDM's stimuli in its order, as eval/rsa's features are.
    const rdmPath = join(data.dir, 'human_rdm.arrow');
    const rdm = readRdmArrow(rdmPath);
    const humanRdm = toHumanRdm(rdm.full, rdmPath, rdm.ids);
    checkSameStimuli(human.ids, humanRdm, `${data.dir} test targets`);
    const options = ckaOptions(ctx.params);
    const humanGram = centeredGram(human, options);
    const epochs = embeddingEpochs(run.dir);
    if (epochs.length === 0) throw new UserError(`${join(run.dir, 'embeddings')}: no epoch{N}.arrow files`, 'train the run first');
    const rows: CkaRow[] = [];
    for (const [k, epoch] of epochs.entries()) {
      if (ctx.signal.aborted) throw new Error('eval/cka cancelled');
      const path = join(run.dir, 'embeddings', `epoch${epoch}.arrow`);
      const f = readFeaturesArrow(path);
      if (f.n !== human.n) throw new UserError(`${path}: ${f.n} stimuli, but the human embedding of ${data.dir} has ${human.n}`, 'embeddings must cover the RSA stimuli of the data set');
      checkSameStimuli(f.ids, humanRdm, path);
      const model = centeredGram({ ...f, name: path }, options);
      const relative = options.kernel === 'rbf' && options.sigmaAbsolute === undefined;
      rows.push({
        epoch, kernel: ctx.params.kernel, unbiased: ctx.params.unbiased, cka: ckaFromGrams(model, humanGram), n: f.n,
        sigma: relative ? options.sigma : undefined, sigmaModel: model.sigma, sigmaHuman: humanGram.sigma,
      });
      ctx.progress(k + 1, epochs.length, `epoch ${epoch}`);
    }
    writeCkaResults(ctx.outDir, rows);
    const seed = typeof run.params.seed === 'number' && Number.isInteger(run.params.seed) ? run.params.seed : null;
    const info: CkaRunInfo = { stage: run.stage, key: run.key, seed };
    writeJsonFile(join(ctx.outDir, CKA_RUN_FILE), info);
    const best = rows.reduce((a, b) => (b.cka > a.cka ? b : a));
    ctx.log(`eval/cka (${options.kernel}${options.unbiased ? ', unbiased' : ''}): ${rows.length} epochs; best ${best.cka} at epoch ${best.epoch}`);
    return { epochs: rows.length, bestEpoch: best.epoch, bestCka: best.cka, lastCka: rows[rows.length - 1].cka };
  },
});
