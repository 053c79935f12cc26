#!/usr/bin/env node
// `lw rsa` without the pipeline's CLI: node packages/eval/scripts/rsa.mjs --features F --human-rdm R [--json] ...
// (after `npx tsc -b packages/eval`). Flags are the same as `lw rsa`.
import { parseArgs } from 'node:util';
import { formatError } from '@lw/core';
import { runRsaCommand } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    features: { type: 'string' }, 'human-rdm': { type: 'string' }, variable: { type: 'string' },
    metric: { type: 'string' }, compare: { type: 'string' }, permutations: { type: 'string' },
    bootstrap: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' },
  },
});
const numeric = ['permutations', 'bootstrap', 'seed'];
const argv = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, numeric.includes(k) ? Number(v) : v]));
try {
  runRsaCommand(argv, (line) => process.stdout.write(line + '\n'));
} catch (e) {
  process.stderr.write(formatError(e) + '\n');
  process.exit(1);
}
