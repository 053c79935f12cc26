import { statSync } from 'node:fs';
import { join } from 'node:path';
import { defineStage, UserError } from '@lw/core';
import { BackendName, loadResnet, modelConfig, readSafetensors, resnetConfigFromWeights, type ResnetConfig } from '@lw/models';
import { z } from 'zod';
import { resnetAsClassifier } from '../classify/classifier.js';
import { saveClassifierModel } from '../classify/model-dir.js';
import { backendResources, startBackend } from '../stage-backend.js';

/**
 * `train/resnet-import`: a torchvision or timm ResNet state dict (.safetensors; the two libraries
 * share key names) as a model task train/classify can start from (input init): config.json (our
 * ResNet config, read from the tensor shapes) + model.safetensors (the same names, BatchNorm running
 * statistics included).
 */
export const resnetImportParams = z.object({
  checkpoint: z.string().describe('A torchvision/timm ResNet .safetensors state dict, or a folder holding model.safetensors'),
  config: z.string().default('auto').describe("'auto': read block, layers and widths from the tensor shapes; or a ResNet config name (resnet18, resnet50), checked against the weights"),
  imageSize: z.number().int().positive().default(224).describe('The image side the weights were trained at (not in the file)'),
  backend: BackendName.default('auto'),
});
export type ResnetImportParams = z.output<typeof resnetImportParams>;

function weightsFile(path: string): string {
  try {
    return statSync(path).isDirectory() ? join(path, 'model.safetensors') : path;
  } catch (e) {
    throw new UserError(`params.checkpoint: cannot read ${path}: ${(e as Error).message}`, 'give a ResNet .safetensors file or a folder holding model.safetensors', { cause: e });
  }
}

export function importedResnetConfig(p: ResnetImportParams): { config: ResnetConfig; weights: string } {
  const weights = weightsFile(p.checkpoint);
  const file = readSafetensors(weights);
  try {
    const fromWeights = resnetConfigFromWeights(file, { imageSize: p.imageSize });
    if (p.config === 'auto') return { config: fromWeights, weights };
    const named = modelConfig(p.config);
    if (named.kind !== 'resnet') throw new UserError(`params.config "${p.config}" is a ${named.kind} config`, "use 'auto' or a ResNet config such as resnet18 or resnet50");
    // The class count is the file's head; everything else must be the named config's.
    return { config: { ...named, numClasses: fromWeights.numClasses, imageSize: p.imageSize }, weights };
  } finally {
    file.close();
  }
}

export const resnetImportStage = defineStage({
  id: 'train/resnet-import',
  description: 'Import a pretrained torchvision/timm ResNet state dict as a model task train/classify can start from',
  packageName: '@lw/train',
  params: resnetImportParams,
  inputs: {},
  externalPaths: (p) => [p.checkpoint],
  resources: backendResources,
  async run(ctx) {
    const p = ctx.params;
    const backend = await startBackend(ctx, p.backend);
    const { config, weights } = importedResnetConfig(p);
    // Loading checks every weight and running statistic against the config.
    const model = resnetAsClassifier(loadResnet(config, weights));
    await saveClassifierModel(ctx.outDir, model);
    model.dispose();
    ctx.log(`${weights}: ${config.name} (${config.block} blocks ${config.layers.join('-')}, widths ${config.widths.join('-')}, ${config.numClasses} classes)`);
    return { config: config.name, numClasses: config.numClasses, backend: backend.name };
  },
});
