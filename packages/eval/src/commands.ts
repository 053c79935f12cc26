import { z } from 'zod';
import { UserError, type CliCommand } from '@lw/core';
import { ckaCommand } from './cka-command.js';
import { optionsFromSchema } from './cli-options.js';
import { checkFeatures } from './check-features.js';
import { loadFeatures, loadHumanRdm } from './load.js';
import { rsa, type RsaResult } from './rsa.js';
import { checkSameStimuli, rsaParams } from './stages.js';

/**
 * `lw rsa`: RSA of a feature file against a human RDM file. Its method flags are the eval/rsa
 * stage's params (rsaParams), so the command and the stage score alike.
 */
export const rsaArgs = z.object({
  features: z.string().min(1).describe('Features [n, d]: SPoSE-layout or numeric CSV, Arrow (column "features") or .npy'),
  'human-rdm': z.string().min(1).describe('Human RDM [n, n]: .mat (MATLAB v5), .npy, .csv or .arrow'),
  variable: z.string().optional().describe('Variable of a .mat file (default: its only numeric matrix)'),
  ...rsaParams.shape,
  json: z.boolean().default(false).describe('Print one JSON object as the last line of stdout'),
});
export type RsaArgs = z.output<typeof rsaArgs>;

/** The JSON line of `lw rsa --json`. */
export function rsaJson(r: RsaResult): Record<string, unknown> {
  const out: Record<string, unknown> = { rho: r.rho, p: r.p, n_pairs: r.nPairs };
  if (r.pPerm !== undefined) out.p_perm = r.pPerm;
  if (r.ci !== undefined) out.ci = r.ci;
  return out;
}

/** A p-value for people; 0 means it underflowed double precision, so say so. */
function formatP(p: number): string {
  return p === 0 ? '0 (below 1e-308)' : p.toExponential(4);
}

/** Runs `lw rsa` on parsed arguments, writing to `stdout`; returns the result. */
export function runRsaCommand(argv: Record<string, unknown>, stdout: (line: string) => void): RsaResult {
  const parsed = rsaArgs.safeParse(argv);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`lw rsa: --${issue.path.join('.')}: ${issue.message}`, 'see lw rsa --help');
  }
  const args = parsed.data;
  const human = loadHumanRdm(args['human-rdm'], { variable: args.variable });
  const f = loadFeatures(args.features);
  if (f.n !== human.n) {
    throw new UserError(`${args.features}: ${f.n} rows of features, but ${args['human-rdm']} is ${human.n} x ${human.n}`,
      'give one feature row per stimulus of the RDM, in its order');
  }
  checkSameStimuli(f.ids, human, args.features);
  checkFeatures(f.features, f.n, f.d, args.metric, args.features, f.ids);
  const result = rsa(f.features, f.n, f.d, human, args);
  if (args.json) stdout(JSON.stringify(rsaJson(result)));
  else {
    const extra = [
      result.pPerm !== undefined ? `p_perm=${result.pPerm}` : '',
      result.ci ? `95% CI [${result.ci[0].toFixed(4)}, ${result.ci[1].toFixed(4)}]` : '',
    ].filter(Boolean).join(' ');
    stdout(`${args.compare} rho=${result.rho} p=${formatP(result.p)} n_pairs=${result.nPairs} (${args.metric} RDM, ${f.n} stimuli x ${f.d} features)${extra ? ' ' + extra : ''}`);
  }
  return result;
}

export const rsaCommand: CliCommand = {
  command: 'rsa',
  describe: 'RSA of a feature matrix against a human RDM (Spearman of 1 - Pearson RDMs by default)',
  builder: (yargs) => optionsFromSchema(yargs, rsaArgs.shape, ['features', 'human-rdm']),
  handler: async (argv) => {
    runRsaCommand(argv, (line) => process.stdout.write(line + '\n'));
  },
};

/** The `lw` subcommands this package provides; `@lw/pipeline` mounts them. */
export const commands: CliCommand[] = [rsaCommand, ckaCommand];
