import { basename } from 'node:path';
import { z } from 'zod';
import { UserError, type CliCommand } from '@lw/core';
import { centeredGram, ckaFromGrams, ckaMatrix, type CenteredGram, type FeatureMatrix } from './cka.js';
import { ckaOptions, ckaParams } from './cka-stage.js';
import { optionsFromSchema } from './cli-options.js';
import { readHumanEmbedding } from './human-embedding.js';
import { loadFeatures } from './load.js';

/**
 * `lw cka`: CKA of feature files with a reference (the human embedding, as a file or a prepared data
 * directory), or between every pair of them (layers, models). Its method flags are the eval/cka
 * stage's params.
 */
export const ckaArgs = z.object({
  features: z.array(z.string().min(1)).min(1).describe('Feature files [n, d], one per model or layer: SPoSE-layout or numeric CSV, Arrow (column "features") or .npy'),
  reference: z.string().optional().describe('Compare each features file with this one, e.g. the human SPoSE embedding of the same stimuli (same formats)'),
  data: z.string().optional().describe('Or: a prepared data directory; the target column of its test split is the reference (the human embedding)'),
  ...ckaParams.shape,
  json: z.boolean().default(false).describe('Print one JSON object as the last line of stdout'),
});
export type CkaArgs = z.output<typeof ckaArgs>;

export type CkaCommandResult =
  | { mode: 'reference'; reference: string; results: Array<{ features: string; cka: number; sigmaModel?: number; sigmaReference?: number; n: number; d: number }> }
  | { mode: 'matrix'; names: string[]; matrix: number[][]; sigmas?: number[] };

function sameStimuli(a: FeatureMatrix, b: FeatureMatrix): void {
  if (a.n !== b.n) throw new UserError(`${a.name}: ${a.n} rows (stimuli), but ${b.name} has ${b.n}`, 'give one row per stimulus, the same stimuli in the same order');
  if (!a.ids || !b.ids) return;
  const i = a.ids.findIndex((id, k) => id !== b.ids![k]);
  if (i >= 0) throw new UserError(`${a.name}: row ${i + 1} is stimulus "${a.ids[i]}" but row ${i + 1} of ${b.name} is "${b.ids[i]}"`, 'put both files in the same stimulus order');
}

function parseArgs(argv: Record<string, unknown>): CkaArgs {
  const parsed = ckaArgs.safeParse(argv);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`lw cka: --${issue.path.join('.')}: ${issue.message}`, 'see lw cka --help');
  }
  const args = parsed.data;
  if (args.reference && args.data) throw new UserError('lw cka: --reference and --data both given', 'give one reference: a file (--reference) or a data directory (--data)');
  if (!args.reference && !args.data && args.features.length < 2) {
    throw new UserError('lw cka: one features file and no reference', 'give --reference FILE or --data DIR to compare with the human embedding, or two or more --features for the matrix between them');
  }
  return args;
}

const fmt = (v: number | undefined) => (v === undefined ? '' : v.toFixed(4));

/** Runs `lw cka` on parsed arguments, writing to `stdout`; returns the result. */
export function runCkaCommand(argv: Record<string, unknown>, stdout: (line: string) => void): CkaCommandResult {
  const args = parseArgs(argv);
  const options = ckaOptions(args);
  const features: FeatureMatrix[] = args.features.map((path) => ({ ...loadFeatures(path), name: path }));
  const setting = `${args.kernel}${args.kernel === 'rbf' ? (args.sigmaAbsolute !== undefined ? ` sigma=${args.sigmaAbsolute}` : ` sigma=${args.sigma} x median distance`) : ''}${args.unbiased ? ', unbiased' : ''}`;
  let out: CkaCommandResult;
  if (args.reference || args.data) {
    const reference: FeatureMatrix = args.data ? { ...readHumanEmbedding(args.data), name: `${args.data} (test targets)` } : { ...loadFeatures(args.reference!), name: args.reference };
    for (const f of features) sameStimuli(f, reference);
    const ref: CenteredGram = centeredGram(reference, options);
    out = {
      mode: 'reference', reference: reference.name!,
      results: features.map((f) => {
        const g = centeredGram(f, options);
        return { features: f.name!, cka: ckaFromGrams(g, ref), sigmaModel: g.sigma, sigmaReference: ref.sigma, n: f.n, d: f.d };
      }),
    };
    if (!args.json) {
      stdout(`CKA (${setting}) with ${reference.name} [${reference.n} x ${reference.d}]`);
      for (const r of out.results) stdout(`  ${r.features}: cka=${r.cka} (${r.n} stimuli x ${r.d} features${r.sigmaModel !== undefined ? `, sigma ${fmt(r.sigmaModel)} / ${fmt(r.sigmaReference)}` : ''})`);
    }
  } else {
    for (const f of features.slice(1)) sameStimuli(f, features[0]);
    const m = ckaMatrix(features, options);
    const L = m.names.length;
    out = { mode: 'matrix', names: m.names, matrix: Array.from({ length: L }, (_, a) => Array.from(m.matrix.subarray(a * L, (a + 1) * L))), sigmas: m.sigmas };
    if (!args.json) {
      const labels = m.names.map((n) => basename(n));
      const w = Math.max(...labels.map((l) => l.length), 6);
      stdout(`CKA (${setting}) between ${L} feature files, ${features[0].n} stimuli`);
      // Every column as wide as the longest name, so no name is cut.
      const c = Math.max(w, 8);
      stdout(' '.repeat(w) + '  ' + labels.map((l) => l.padStart(c)).join(' '));
      for (let a = 0; a < L; a++) stdout(labels[a].padEnd(w) + '  ' + out.matrix[a].map((v) => v.toFixed(4).padStart(c)).join(' '));
    }
  }
  if (args.json) stdout(JSON.stringify({ kernel: args.kernel, unbiased: args.unbiased, ...(args.kernel === 'rbf' ? { sigma: args.sigmaAbsolute ?? args.sigma, sigma_relative: args.sigmaAbsolute === undefined } : {}), ...out }));
  return out;
}

export const ckaCommand: CliCommand = {
  command: 'cka',
  describe: 'CKA (linear or RBF) of feature matrices with the human embedding, or between each other (layers, models)',
  builder: (yargs) => optionsFromSchema(yargs, ckaArgs.shape, ['features'], ['features'])
    .example('lw cka --features epoch10.arrow --data .lw/cache/<data task>', 'linear CKA of one epoch\'s features with the human SPoSE embedding')
    .example('lw cka --features block0.npy block1.npy block2.npy --kernel rbf --sigma 0.4', 'RBF CKA between layers, bandwidth 0.4 x median distance'),
  handler: async (argv) => {
    runCkaCommand(argv, (line) => process.stdout.write(line + '\n'));
  },
};
