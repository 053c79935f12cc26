import { afterEach, expect, it } from 'vitest';
import { EXECUTOR, runOnSlurm, study } from './helpers.js';

const path = process.env.PATH;
afterEach(() => {
  process.env.PATH = path;
});

// Runs everywhere: without Slurm's tools on PATH, --executor slurm says so before anything else.
it('tells the user when sbatch is missing', async () => {
  const s = study(`name: nosbatch
${EXECUTOR}
stages:
  a: { uses: exec, params: { cmd: "touch a", outs: [a] } }
`);
  process.env.PATH = '/nonexistent';
  await expect(runOnSlurm(s)).rejects.toThrow(/sbatch was not found on PATH/);
});
