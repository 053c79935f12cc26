import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { defineStage, UserError } from '@lw/core';
import { BackendName, loadVit, modelConfig, readCheckpointJson, readSafetensors, vitConfigFromTimm, type TimmVitInfo, type VitConfig } from '@lw/models';
import { z } from 'zod';
import { vitAsClassifier } from '../classify/classifier.js';
import { saveClassifierModel } from '../classify/model-dir.js';
import { backendResources, startBackend } from '../stage-backend.js';

/**
 * `train/vit-import`: a timm ViT checkpoint (the hub layout: config.json with `architecture` +
 * model.safetensors with timm's state-dict names) as a model task that train/classify can start
 * from (input init): config.json (our ViT config) + model.safetensors (timm names, F32). Reads timm
 * VisionTransformers only; CLIP checkpoints go through train/clip-import.
 */
export const vitImportParams = z.object({
  checkpoint: z.string().describe('A timm ViT folder (config.json + model.safetensors, as timm saves to the Hugging Face hub) or its .safetensors file'),
  config: z.string().default('auto')
    .describe("'auto': read the timm config.json in the folder (or beside the file); or a ViT config name (e.g. vit-b16), its class count taken from the checkpoint's head"),
  backend: BackendName.default('auto'),
});
export type VitImportParams = z.output<typeof vitImportParams>;

/** The weights file and the folder its config.json would be in. */
function checkpointFiles(path: string): { weights: string; dir: string } {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    throw new UserError(`params.checkpoint: cannot read ${path}: ${(e as Error).message}`, 'give a timm ViT folder (config.json + model.safetensors) or a .safetensors file', { cause: e });
  }
  if (!isDir && !path.endsWith('.safetensors')) {
    throw new UserError(`params.checkpoint: ${path} is not a .safetensors file`, 'weights are read from .safetensors only; convert with safetensors.torch.save_file(model.state_dict(), "model.safetensors")');
  }
  const dir = isDir ? path : dirname(path);
  const weights = isDir ? join(path, 'model.safetensors') : path;
  if (!existsSync(weights)) throw new UserError(`params.checkpoint: ${path} has no model.safetensors`, 'timm saves model.safetensors beside config.json (timm.models.push_to_hf_hub / save_for_hf)');
  return { weights, dir };
}

/** The ViT config of the checkpoint: its timm config.json, or the named config with the head's class count. */
export function importedVitConfig(p: VitImportParams): { info: TimmVitInfo; source: string; weights: string } {
  const { weights, dir } = checkpointFiles(p.checkpoint);
  if (p.config === 'auto') {
    const configJson = join(dir, 'config.json');
    if (!existsSync(configJson)) throw new UserError(`params.config is 'auto' but ${dir} has no config.json`, 'keep timm\'s config.json beside model.safetensors, or name the ViT config in params.config (e.g. vit-b16)');
    return { info: vitConfigFromTimm(readCheckpointJson(configJson), { source: configJson }), source: configJson, weights };
  }
  const named = modelConfig(p.config);
  if (named.kind !== 'vit') throw new UserError(`params.config "${p.config}" is a ${named.kind} config`, "use 'auto' or a ViT config such as vit-b16 or tiny-vit");
  const file = readSafetensors(weights);
  const head = file.entries.get('head.weight')?.shape; // [classes, width]
  file.close();
  if (!head) throw new UserError(`${weights} has no head.weight: not a timm ViT classifier`, 'give the model.safetensors of a timm VisionTransformer (patch_embed.proj.weight, blocks.*, head.weight)');
  const config: VitConfig = { ...named, numClasses: head[0] };
  return { info: { config }, source: `params.config ${p.config}`, weights };
}

export const vitImportStage = defineStage({
  id: 'train/vit-import',
  description: 'Import a pretrained timm ViT checkpoint (hub layout) as a model task train/classify can start from',
  packageName: '@lw/train',
  params: vitImportParams,
  inputs: {},
  externalPaths: (p) => [p.checkpoint],
  resources: backendResources,
  async run(ctx) {
    const p = ctx.params;
    const backend = await startBackend(ctx, p.backend);
    const { info, source, weights } = importedVitConfig(p);
    // Loading checks every weight against the config: nothing missing, unexpected or mis-shaped.
    const model = vitAsClassifier(loadVit(info.config, weights));
    await saveClassifierModel(ctx.outDir, model);
    model.dispose();
    const v = info.config.vision;
    ctx.log(`${weights}: ${info.config.name} (${v.imageSize} px, patch ${v.patchSize}, width ${v.width}, ${v.layers} blocks, ${info.config.numClasses} classes) from ${source}`);
    // The normalisation the weights were trained with; a data set normalises with its own.
    if (info.mean) ctx.log(`pretrained normalisation: mean ${info.mean.join(', ')}, std ${info.std?.join(', ')}`);
    ctx.record({ imported: { config: info.config.name, source, mean: info.mean, std: info.std } });
    return { config: info.config.name, numClasses: info.config.numClasses, imageSize: v.imageSize, backend: backend.name };
  },
});
