import { resolve } from 'node:path';
import type { CliCommand } from '@lw/core';
import { formatError } from '@lw/core';
import { JobQuery } from './query.js';
import { readRunState, runStatePath } from './run-state.js';
import { jobPhase } from './states.js';
import { runTool, type RunTool } from './tools.js';

/**
 * `lw cancel FILE`: scancel the jobs that the last `lw run FILE --executor slurm` on this cache
 * submitted and that are still waiting or running. The run itself (if still polling) then reports
 * those tasks as cancelled; finished entries stay in the cache, so a rerun submits only the rest.
 */
export async function cancelRun(opts: { cacheDir: string; pipelineFile: string; run?: RunTool }): Promise<{ jobs: string[] }> {
  const run = opts.run ?? runTool;
  const state = readRunState(runStatePath(opts.cacheDir, opts.pipelineFile), opts.pipelineFile);
  const ids = state.jobs.map((j) => j.id);
  const states = await new JobQuery(run).states(ids);
  // An array job is cancelled by its id as long as any of its tasks is still alive.
  const alive = ids.filter((id) =>
    [...states.values()].some((s) => (s.id === id || s.id.startsWith(`${id}_`)) && ['waiting', 'running'].includes(jobPhase(s).phase)),
  );
  if (alive.length) {
    const result = await run(['scancel', ...alive]);
    if (result.code !== 0) throw new Error(`scancel ${alive.join(' ')} failed: ${result.stderr.trim()}`);
  }
  return { jobs: alive };
}

export const cancelCommand: CliCommand = {
  command: 'cancel <file>',
  describe: 'Cancel the Slurm jobs of the last `lw run FILE --executor slurm` (those still waiting or running)',
  builder: (yargs) =>
    yargs
      .positional('file', { type: 'string', describe: 'The pipeline file that was run', demandOption: true })
      .option('cache', { type: 'string', describe: 'Cache directory (default: $LW_CACHE or .lw/cache)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print {"cancelled":[job ids]} as the last line' }),
  handler: async (argv: { file: string; cache?: string; json: boolean }) => {
    const cacheDir = resolve(argv.cache ?? process.env.LW_CACHE ?? '.lw/cache');
    try {
      const { jobs } = await cancelRun({ cacheDir, pipelineFile: argv.file });
      process.stderr.write(jobs.length ? `cancelled Slurm jobs ${jobs.join(' ')}\n` : 'no job of this run is waiting or running\n');
      if (argv.json) process.stdout.write(`${JSON.stringify({ cancelled: jobs })}\n`);
    } catch (e) {
      process.stderr.write(`${formatError(e)}\n`);
      process.exitCode = 1;
    }
  },
};
