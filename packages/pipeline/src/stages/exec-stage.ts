import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { defineStage, UserError, type StageInput, type TaskResult } from '@lw/core';

/**
 * `exec`: a user's own command as a stage. `cmd` runs under /bin/sh in the task's fresh output
 * directory; `${var}` in it is `$LW_VAR_<VAR>` in the command's environment (see shell-command.ts:
 * values are data, never code); each named input is `$LW_IN_<NAME>` (a result directory, or for a list/matrix input
 * a directory with one subdirectory per upstream task); `deps` are files whose content enters the
 * key (paths relative to the pipeline file, also given as `$LW_PIPELINE_DIR`); every path in
 * `outs` must exist afterwards.
 */
export const ExecParamsSchema = z.strictObject({
  cmd: z.string().min(1).describe('Shell command, run by /bin/sh in the fresh output directory. A `${var}` in it reaches the command as the environment variable LW_VAR_<VAR> (quoted: one word, never code).'),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name'), z.union([z.string(), z.number(), z.boolean()]).transform(String))
    .superRefine((env, ctx) => {
      for (const name of Object.keys(env)) {
        if (name.startsWith('LW_') && !name.startsWith('LW_VAR_')) ctx.addIssue({ code: 'custom', path: [name], message: `"${name}": names starting with LW_ are set by lw itself (LW_IN_*, LW_TASK_*, LW_SCRATCH, LW_PIPELINE_DIR)` });
      }
    })
    .default({})
    .describe('Environment variables for the command (values enter the cache key); `${var}` in cmd adds LW_VAR_<VAR> here.'),
  deps: z.array(z.string()).default([]).describe('Files or directories (relative to the pipeline file) whose content enters the cache key.'),
  outs: z.array(z.string()).default([]).describe('Paths (relative to the output directory) the command must produce.'),
});

export const execStage = defineStage({
  id: 'exec',
  description: 'Run a shell command in the task output directory; inputs as $LW_IN_<NAME>.',
  packageName: '@lw/pipeline',
  params: ExecParamsSchema,
  inputs: {},
  externalPaths: (params) => params.deps,
  async run(ctx) {
    const env: NodeJS.ProcessEnv = { ...process.env, ...ctx.params.env, LW_TASK_KEY: ctx.taskKey, LW_TASK_NAME: ctx.taskName, LW_SCRATCH: ctx.scratchDir };
    for (const [name, input] of Object.entries(ctx.inputs)) {
      env[`LW_IN_${name.toUpperCase()}`] = inputDir(name, input, ctx.scratchDir);
    }
    const code = await runShell(ctx.params.cmd, ctx.outDir, env, ctx.signal);
    if (code !== 0) throw new UserError(`exec task ${ctx.taskName}: command exited with status ${code}: ${ctx.params.cmd}`, 'see the task log for its output');
    const missing = ctx.params.outs.filter((o) => !existsSync(join(ctx.outDir, o)));
    if (missing.length) throw new UserError(`exec task ${ctx.taskName}: the command did not produce ${missing.join(', ')}`, 'every path in `outs` must exist in the output directory when the command ends');
    return { outs: ctx.params.outs };
  },
});

/** One result: its directory. A list: a directory of symlinks named after each upstream task. */
function inputDir(name: string, input: StageInput, scratch: string): string {
  if (!Array.isArray(input)) return input.dir;
  const dir = resolve(scratch, 'inputs', name);
  mkdirSync(dir, { recursive: true });
  for (const r of input as (TaskResult & { name?: string })[]) {
    const link = join(dir, subdirName(r));
    if (!existsSync(link)) symlinkSync(r.dir, link);
  }
  return dir;
}

function subdirName(r: TaskResult & { name?: string }): string {
  const cond = Object.entries(r.condition).map(([k, v]) => `${k}=${String(v)}`).join(',');
  return (cond || r.name || r.key).replace(/[/\0]/g, '_');
}

function runShell(cmd: string, cwd: string, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<number> {
  return new Promise((done, fail) => {
    // Own process group, so cancelling kills the command's children too.
    const child = spawn('/bin/sh', ['-c', cmd], { cwd, env, stdio: 'inherit', detached: true });
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    };
    if (signal.aborted) kill();
    else signal.addEventListener('abort', kill, { once: true });
    child.on('error', fail);
    child.on('close', (code, sig) => {
      signal.removeEventListener('abort', kill);
      done(code ?? (sig ? 128 : 1));
    });
  });
}
