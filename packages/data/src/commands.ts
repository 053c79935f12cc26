import type { CliCommand } from '@lw/core';
import { convertImagenet } from './imagenet/convert.js';
import { formatInspection, inspectDataset } from './inspect.js';
import { prepareThings } from './things.js';
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

export const thingsCommand: CliCommand = {
  command: 'data things',
  describe: 'Convert THINGS images + SPoSE embedding + human RDM into Arrow shards',
  builder: (y) => y
    .option('images', { type: 'string', demandOption: true, describe: 'THINGS object_images folder (flat or concept sub-folders)' })
    .option('embeddings', { type: 'string', demandOption: true, describe: 'spose_embedding66d_rescaled.csv, or spose_embedding_66d_sorted.txt with --names' })
    .option('test-index', { type: 'string', demandOption: true, describe: 'triplet48_index.npy or spose_embedding66d_rescaled_48val_reordered.csv' })
    .option('human-rdm', { type: 'string', demandOption: true, describe: 'RDM48_triplet.mat (or .npy/.csv/.arrow)' })
    .option('out', { type: 'string', demandOption: true, describe: 'output directory' })
    .option('names', { type: 'string', describe: 'things1854_image_names.csv (required for the .txt embedding)' })
    .option('prompts', { type: 'string', describe: 'the 66 dimension prompts, one a line' })
    .option('rdm-variable', { type: 'string', describe: 'variable name in the .mat file' })
    .option('size', { type: 'number', default: 224, describe: 'output side (anisotropic resize, no crop)' })
    .option('seed', { type: 'number', default: 1, describe: 'split seed' })
    .option('split-file', { type: 'string', describe: 'JSON {train_indices, test_indices} instead of the seeded split (e.g. packages/data/splits/things1806-torch-seed1.json)' })
    .option('json', { type: 'boolean', describe: 'print a JSON summary as the last line' }),
  handler: async (argv) => {
    const m = await prepareThings({
      splitFile: argv.splitFile,
      images: argv.images, embeddings: argv.embeddings, testIndex: argv.testIndex, humanRdm: argv.humanRdm,
      names: argv.names, prompts: argv.prompts, rdmVariable: argv.rdmVariable, size: argv.size, seed: argv.seed,
    }, argv.out, { label: flagOf });
    report(argv, { out: argv.out, counts: m.counts, image: m.image }, `wrote ${argv.out}: ${m.counts.train} train, ${m.counts.val} val, ${m.counts.test} test images`);
  },
};

/** `testIndex` -> `--test-index`: errors name the flag the user typed. */
function flagOf(param: string): string {
  return '--' + param.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

export const imagenetCommand: CliCommand = {
  command: 'data imagenet',
  describe: 'Convert an ILSVRC-2012 tree into Arrow shards (resumable: rerun to finish an interrupted conversion)',
  builder: (y) => y
    .option('root', { type: 'string', demandOption: true, describe: 'folder holding train/ and val/' })
    .option('out', { type: 'string', demandOption: true, describe: 'output directory (finished shards there are kept on rerun)' })
    .option('short-side', { type: 'number', default: 256, describe: 'train images stored at this short side' })
    .option('val-labels', { type: 'string', describe: 'LOC_val_solution.csv or ILSVRC2012_validation_ground_truth.txt' })
    .option('synsets', { type: 'string', describe: 'devkit layout: synset of ILSVRC2012_ID 1, 2, ... one a line (meta.mat order)' })
    .option('strict', { type: 'boolean', default: false, describe: 'fail on an unreadable image instead of skipping it' })
    .option('concurrency', { type: 'number', describe: 'images decoded at once (default: CPU cores)' })
    .option('json', { type: 'boolean', describe: 'print a JSON summary as the last line' }),
  handler: async (argv) => {
    const m = await convertImagenet({
      root: argv.root, shortSide: argv.shortSide, valLabels: argv.valLabels, synsets: argv.synsets, strict: argv.strict,
      ...(argv.concurrency ? { concurrency: argv.concurrency } : {}),
    }, argv.out, { log: (s) => process.stderr.write(s + '\n') });
    report(argv, { out: argv.out, counts: m.counts, classes: m.classes?.length, corrupt: m.corrupt.length, reusedShards: m.reused },
      `wrote ${argv.out}: ${m.counts.train} train, ${m.counts.val} val images, ${m.corrupt.length} unreadable skipped`);
  },
};

export const inspectCommand: CliCommand = {
  command: 'data inspect <dir>',
  describe: 'Summarise a prepared data set and write a contact sheet PNG beside it',
  builder: (y) => y
    .positional('dir', { type: 'string', describe: 'a directory written by lw data things|imagenet|toy' })
    .option('sheet', { type: 'string', describe: 'where to write the contact sheet (default: <dir>.contact-sheet.png)' })
    .option('json', { type: 'boolean', describe: 'print a JSON summary as the last line' }),
  handler: async (argv) => {
    const r = await inspectDataset(argv.dir, { sheet: argv.sheet });
    report(argv, r as unknown as Record<string, unknown>, formatInspection(r));
  },
};

/** The `lw` subcommands this package provides; `@lw/pipeline` mounts them. */
export const commands: CliCommand[] = [toyCommand, thingsCommand, imagenetCommand, inspectCommand];
