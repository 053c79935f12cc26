import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@lw/core';
import { Clip, configFromJson, ParamStore, tf, type ClipConfig } from '@lw/models';
import { writeFileAtomic } from './files.js';
import { readTensorFile, writeTensorFile, type NamedTensor } from './tensor-file.js';

/**
 * A CLIP written by `train/clip-pretrain`: `config.json` (the model config) and `model.safetensors`
 * (every weight by its OpenAI CLIP name, F32, PyTorch layout).
 */
export const MODEL_FILE = 'model.safetensors';
export const CONFIG_FILE = 'config.json';

/**
 * Saves `clip`. `logitScale` (the factor, e.g. 100) replaces the stored logit_scale with its log:
 * CLIP-HBA keeps the checkpoint's scale frozen, and OpenAI's checkpoints have it at CLIP's clamp of
 * 100 (method §1.1), so predictions span [-100, 100] like the [0, 100] targets.
 */
export function saveClip(dir: string, clip: Clip, opts: { logitScale?: number } = {}): void {
  const tensors = new Map<string, NamedTensor>();
  for (const [name, t] of clip.params.tensors) tensors.set(name, { dtype: 'F32', shape: t.shape, data: Float32Array.from(t.dataSync() as Float32Array) });
  if (opts.logitScale !== undefined) tensors.get('logit_scale')!.data = new Float32Array([Math.log(opts.logitScale)]);
  writeTensorFile(join(dir, MODEL_FILE), tensors, { format: 'lw-clip/1', config: clip.config.name });
  writeFileAtomic(join(dir, CONFIG_FILE), JSON.stringify(clip.config, null, 2) + '\n');
}

/** Loads a saved CLIP with frozen weights (plain tensors), ready for CLIP-HBA or feature extraction. */
export function loadSavedClip(dir: string): Clip {
  const configPath = join(dir, CONFIG_FILE), modelPath = join(dir, MODEL_FILE);
  if (!existsSync(configPath) || !existsSync(modelPath)) {
    throw new UserError(`${dir} holds no saved CLIP (expected ${CONFIG_FILE} and ${MODEL_FILE})`, 'the model input must be a train/clip-pretrain task');
  }
  const config = configFromJson(JSON.parse(readFileSync(configPath, 'utf8')), configPath);
  if (config.kind !== 'clip') throw new UserError(`${configPath}: a ${config.kind} config, not a CLIP`);
  const file = readTensorFile(modelPath);
  const tensors = new Map<string, tf.Tensor>();
  for (const [name, t] of file.tensors) tensors.set(name, tf.tensor(t.data as Float32Array, t.shape, 'float32'));
  return new Clip(config as ClipConfig, new ParamStore(tensors));
}
