import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@lw/core';
import { configFromJson, loadResnet, loadVit, tf } from '@lw/models';
import { writeFileAtomic } from '../files.js';
import { CONFIG_FILE, MODEL_FILE } from '../model-store.js';
import { writeTensorFile, type NamedTensor } from '../tensor-file.js';
import { resnetAsClassifier, vitAsClassifier, type Classifier, type ClassifierConfig } from './classifier.js';

/**
 * A classifier as a model task (train/vit-import writes one; train/classify starts from one):
 * `config.json` (the ViT or ResNet config) and `model.safetensors` with the PyTorch state-dict names
 * and layouts (timm for a ViT, torchvision/timm for a ResNet: conv weights OIHW, BatchNorm running
 * statistics included), so timm/torchvision can read the file back.
 */
export async function saveClassifierModel(dir: string, model: Classifier): Promise<void> {
  const tensors = new Map<string, NamedTensor>();
  for (const [name, t] of [...model.variables, ...model.state]) {
    // Our ResNet convs are HWIO [kh, kw, in, out]; the file keeps PyTorch's OIHW [out, in, kh, kw].
    const file = model.config.kind === 'resnet' && t.rank === 4 ? tf.transpose(t, [3, 2, 0, 1]) : t;
    tensors.set(name, { dtype: 'F32', shape: file.shape, data: Float32Array.from((await file.data()) as Float32Array) });
    if (file !== t) file.dispose();
  }
  writeTensorFile(join(dir, MODEL_FILE), tensors, { format: 'lw-classifier/1', config: model.config.name });
  writeFileAtomic(join(dir, CONFIG_FILE), JSON.stringify(model.config, null, 2) + '\n');
}

/** The classifier a model task holds, its weights as variables (to be copied into a model that trains). */
export function loadClassifierModel(dir: string): Classifier {
  const configPath = join(dir, CONFIG_FILE), modelPath = join(dir, MODEL_FILE);
  if (!existsSync(configPath) || !existsSync(modelPath)) {
    throw new UserError(`${dir} holds no saved classifier (expected ${CONFIG_FILE} and ${MODEL_FILE})`, 'the init input must be a train/vit-import or train/resnet-import task');
  }
  const config = configFromJson(JSON.parse(readFileSync(configPath, 'utf8')), configPath);
  if (config.kind === 'vit') return vitAsClassifier(loadVit(config, modelPath));
  if (config.kind === 'resnet') return resnetAsClassifier(loadResnet(config, modelPath));
  throw new UserError(`${configPath}: a ${config.kind} config, not a classifier`, 'the init input must be a ViT or ResNet model task (train/vit-import, train/resnet-import)');
}

/** The architecture a config fixes, apart from its name and class count. */
function architecture(c: ClassifierConfig): string {
  return JSON.stringify({ ...c, name: '', numClasses: 0 });
}

export function sameArchitecture(a: ClassifierConfig, b: ClassifierConfig): boolean {
  return architecture(a) === architecture(b);
}

/**
 * Copies `init`'s weights and state into `model` (same architecture). The head is kept from the
 * model's own seeded init when the class counts differ (a pretrained 1000-class head on an 8-class
 * data set); returns what was done, for the log.
 */
export function startFrom(model: Classifier, init: Classifier, source: string): { copied: number; headReinitialised: boolean } {
  if (!sameArchitecture(model.config, init.config)) {
    throw new UserError(`${source}: the init's architecture (${init.config.name}) is not the model's (${model.config.name})`,
      'leave params.model out to train the init\'s architecture, or give the matching config');
  }
  const headReinitialised = init.numClasses !== model.numClasses;
  let copied = 0;
  const copy = (to: tf.Variable, from: tf.Variable) => {
    const t = from.clone();
    to.assign(t);
    t.dispose();
    copied++;
  };
  for (const [name, v] of model.variables) {
    if (headReinitialised && model.headNames.includes(name)) continue;
    copy(v, init.variables.get(name)!);
  }
  for (const [name, v] of model.state) copy(v, init.state.get(name)!);
  return { copied, headReinitialised };
}
