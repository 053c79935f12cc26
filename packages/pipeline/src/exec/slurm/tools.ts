import { execFile } from 'node:child_process';

/**
 * How the executor talks to Slurm: one argv in, exit code and output back. Always an argv array
 * (execFile, no shell), so no value is ever interpreted by a shell on the way.
 */
export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}
export type RunTool = (argv: readonly string[]) => Promise<ToolResult>;

/** Runs the real Slurm client tools; a missing binary reads as exit code 127. */
export const runTool: RunTool = (argv) => runWithTimeout(argv, 120_000);

function runWithTimeout(argv: readonly string[], timeout: number): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { timeout, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const err = error as (NodeJS.ErrnoException & { code?: number | string }) | null;
      const code = !err ? 0 : typeof err.code === 'number' ? err.code : err.code === 'ENOENT' ? 127 : 1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr || (err && !stderr ? err.message : '')) });
    });
  });
}

/** True when `sbatch` and `squeue` run and reach a controller (used by tests and `lw run` checks).
 *  Quick: a client that cannot reach its controller retries for minutes, so it is cut off. */
export async function slurmReachable(run: RunTool = (argv) => runWithTimeout(argv, 8_000)): Promise<boolean> {
  const [sbatch, squeue] = await Promise.all([run(['sbatch', '--version']), run(['squeue', '-h', '-o', '%i', '-j', '1'])]);
  // squeue of an unknown job id exits 1 with "Invalid job id"; a missing controller says otherwise.
  const controllerUp = squeue.code === 0 || /invalid job id/i.test(squeue.stderr);
  return sbatch.code === 0 && controllerUp;
}
