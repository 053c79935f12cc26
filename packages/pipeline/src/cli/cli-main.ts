import { resolve } from 'node:path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { formatError, type CliCommand } from '@lw/core';
import { stagePackages } from '../stages/registry.js';
import { commands as pipelineCommands } from './commands.js';

/**
 * The full `lw` command line: the pipeline commands (run, status, explain, verify, gc, task, schema,
 * stages) and every package's own commands. Errors print as one paragraph (no stack for user
 * errors) with exit status 1; usage errors exit with 2.
 */
/** Other packages' commands, imported only when the command is not one of ours (imports can
 *  take seconds: tfjs), so `lw run` on a cached pipeline starts fast. */
async function allCommands(argv: string[]): Promise<CliCommand[]> {
  const ours = new Set(pipelineCommands.map((c) => c.command.split(' ')[0]));
  const first = argv.find((a) => !a.startsWith('-'));
  if (first !== undefined && ours.has(first)) return pipelineCommands;
  const mods = await Promise.all(stagePackages.map((p) => import(p) as Promise<{ commands?: CliCommand[] }>));
  return [...pipelineCommands, ...mods.flatMap((m) => m.commands ?? [])];
}

function mount(y: Argv, list: CliCommand[]): Argv {
  const groups = new Map<string, CliCommand[]>();
  for (const c of list) {
    const [head, ...rest] = c.command.split(' ');
    if (rest.length === 0 || rest[0].startsWith('<') || rest[0].startsWith('[')) {
      y = y.command(c.command, c.describe, c.builder, c.handler);
    } else {
      groups.set(head, [...(groups.get(head) ?? []), { ...c, command: rest.join(' ') }]);
    }
  }
  for (const [head, children] of groups) {
    y = y.command(head, `${head} commands: ${children.map((c) => c.command.split(' ')[0]).join(', ')}`, (sub: Argv) => mount(sub, children).demandCommand(1, `name a ${head} command`), () => {});
  }
  return y;
}

let usageFailure = false;
const argv = hideBin(process.argv);
try {
  await mount(
    yargs(argv)
      .scriptName('lw')
      .usage('$0 <command> [options]\n\nRun learning-windows pipelines with a content-addressed cache.')
      .option('cache', {
        type: 'string',
        describe: 'Cache directory (also LW_CACHE)',
        default: process.env.LW_CACHE ?? '.lw/cache',
        coerce: (p: string) => resolve(p),
        global: true,
      })
      .option('results', {
        type: 'string',
        describe: 'Results tree root: <dir>/<pipeline>/<stage> links to entries (also LW_RESULTS)',
        default: process.env.LW_RESULTS ?? '.lw/results',
        coerce: (p: string) => resolve(p),
        global: true,
      }),
    await allCommands(argv),
  )
    .demandCommand(1, 'name a command; see lw --help')
    .strict()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg: string | undefined, err: Error | undefined) => {
      if (err) throw err;
      usageFailure = true;
      process.stderr.write(`error: ${msg}\n  hint: add --help to the command for its usage\n`);
      process.exit(2);
    })
    .help()
    .parseAsync();
} catch (e) {
  if (!usageFailure) {
    process.stderr.write(formatError(e) + '\n');
    process.exitCode = 1;
  }
}
