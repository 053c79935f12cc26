import type { CliCommand } from '@lw/core';
import { formatError } from '@lw/core';
import { MODEL_NAMES, modelConfig } from './config.js';
import { type CheckpointReport, formatReport, inspectCheckpoint } from './inspect.js';
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

export interface InspectArgs {
  path: string;
  json?: boolean;
  visionHeads?: number;
  textHeads?: number;
}

/** `lw models inspect`: prints the report (text, or one JSON object with --json) and returns it. */
export function runInspect(argv: InspectArgs, stdout: (line: string) => void): CheckpointReport {
  const report = inspectCheckpoint(argv.path, { heads: { vision: argv.visionHeads, text: argv.textHeads } });
  if (argv.json) stdout(JSON.stringify(report));
  else for (const line of formatReport(report)) stdout(line);
  return report;
}

const inspect: CliCommand = {
  command: 'models inspect <path>',
  describe: 'what a checkpoint is (layout, config source, both towers, parameters) and whether its weights match that config; exit code 1 when they do not',
  builder: (y) => y
    .positional('path', { type: 'string', describe: 'a checkpoint folder (Hugging Face CLIP, OpenCLIP, timm ViT, a model task) or a .safetensors file (OpenAI CLIP state dict, ResNet)' })
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON object instead of the text' })
    .option('vision-heads', { type: 'number', describe: 'image tower heads of a bare OpenAI CLIP state dict whose width is not a multiple of 64' })
    .option('text-heads', { type: 'number', describe: 'text tower heads of such a state dict' })
    .example('lw models inspect packages/models/fixtures/zoo/hf-clip', 'a Hugging Face CLIPModel folder'),
  handler: async (argv: InspectArgs) => {
    try {
      if (!runInspect(argv, (line) => console.log(line)).match.ok) process.exitCode = 1;
    } catch (e) {
      console.error(formatError(e));
      process.exitCode = 1;
    }
  },
};

/** The `lw` subcommands this package provides; `@lw/pipeline` mounts them. */
export const commands: CliCommand[] = [summary, inspect];
