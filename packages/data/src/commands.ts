import type { CliCommand } from '@lw/core';
import { generateToy } from './toy/generate.js';

/** Prints the result: one JSON object as the last stdout line with --json, a short sentence otherwise. */
export function report(argv: { json?: boolean }, summary: Record<string, unknown>, text: string): void {
  process.stdout.write(argv.json ? JSON.stringify(summary) + '\n' : text + '\n');
}

export const toyCommand: CliCommand = {
  command: 'data toy',
  describe: 'Generate the embedded default data set (procedural THINGS stand-in)',
  builder: (y) => y
    .option('out', { type: 'string', demandOption: true, describe: 'output directory' })
    .option('images', { type: 'number', describe: 'items including the test items (default 1048)' })
    .option('test', { type: 'number', describe: 'held-out items with a human RDM (default 48)' })
    .option('size', { type: 'number', describe: 'image side in pixels (default 32)' })
    .option('seed', { type: 'number', describe: 'seed (default 1)' })
    .option('json', { type: 'boolean', describe: 'print a JSON summary as the last line' }),
  handler: async (argv) => {
    const params = Object.fromEntries(['images', 'test', 'size', 'seed'].filter((k) => argv[k] !== undefined).map((k) => [k, argv[k]]));
    const m = generateToy(params, argv.out);
    report(argv, { out: argv.out, counts: m.counts, image: m.image }, `wrote ${argv.out}: ${m.counts.train} train, ${m.counts.val} val, ${m.counts.test} test images`);
  },
};

/** The `lw` subcommands this package provides; `@lw/pipeline` mounts them. */
export const commands: CliCommand[] = [toyCommand];
