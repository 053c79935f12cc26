import type { CliCommand } from '@lw/core';
import { formatError } from '@lw/core';
import { MODEL_NAMES, modelConfig } from './config.js';
import { summarize } from './summary.js';

const summary: CliCommand = {
  command: 'models summary <config>',
  describe: 'layers and parameter counts of a named model config',
  builder: (y) => y
    .positional('config', { type: 'string', describe: `a named config: ${MODEL_NAMES.join(', ')}` })
    .option('dora', { type: 'boolean', default: false, describe: 'CLIP-HBA: DoRA on the config\'s blocks, everything else frozen' })
    .option('json', { type: 'boolean', default: false, describe: 'print {"total":...,"trainable":...} as the last line' }),
  handler: async (argv: { config: string; dora: boolean; json: boolean }) => {
    try {
      const s = summarize(modelConfig(argv.config), { dora: argv.dora });
      const width = Math.max(...s.rows.map((r) => r.module.length));
      const lines = s.rows.map((r) => `${r.module.padEnd(width)}  ${r.params.toLocaleString('en-US').padStart(13)}`);
      lines.push(`${'total'.padEnd(width)}  ${s.total.toLocaleString('en-US').padStart(13)}`);
      lines.push(`${'trainable'.padEnd(width)}  ${s.trainable.toLocaleString('en-US').padStart(13)}`);
      console.log(lines.join('\n'));
      if (argv.json) console.log(JSON.stringify({ config: s.name, total: s.total, trainable: s.trainable }));
    } catch (e) {
      console.error(formatError(e));
      process.exitCode = 1;
    }
  },
};

/** The `lw` subcommands this package provides; `@lw/pipeline` mounts them. */
export const commands: CliCommand[] = [summary];
