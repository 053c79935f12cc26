import { statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@lw/core';
import { ParamStore } from './params.js';
import { ResnetConfig } from './resnet-config.js';
import { Resnet, resnetSpecs, stateVariables } from './resnet.js';
import { readSafetensors, type SafetensorsFile } from './safetensors.js';
import { tf } from './tf.js';

/**
 * torchvision and timm ResNet checkpoints (the same key names; `num_batches_tracked` is ignored: with
 * momentum 0.1 PyTorch never reads it). Conv weights OIHW [out, in, kh, kw] become HWIO [kh, kw, in, out].
 */
const ignored = (name: string) => name.endsWith('.num_batches_tracked');

function weightsPath(fileOrDir: string): string {
  try {
    return statSync(fileOrDir).isDirectory() ? join(fileOrDir, 'model.safetensors') : fileOrDir;
  } catch (e) {
    throw new UserError(`cannot read checkpoint ${fileOrDir}: ${(e as Error).message}`, 'give a .safetensors file or a directory holding model.safetensors', { cause: e });
  }
}

/** The checkpoint's shape of a spec'd tensor: OIHW for 4-d (conv) weights. */
const fileShape = (shape: number[]) => (shape.length === 4 ? [shape[3], shape[2], shape[0], shape[1]] : shape);

/**
 * The architecture a ResNet state dict describes: bottleneck when blocks have conv3, blocks per stage
 * by counting `layer{s}.{i}`, planes from each stage's first conv1, conv1's channels, fc's rows.
 * `imageSize` is not in the weights (default 224).
 */
export function resnetConfigFromWeights(file: SafetensorsFile, opts: { name?: string; imageSize?: number } = {}): ResnetConfig {
  const names = new Set(file.names());
  const shape = (n: string) => {
    const e = file.entries.get(n);
    if (!e) throw new UserError(`${file.path} has no "${n}": not a torchvision/timm ResNet state dict`, 'give the model.safetensors of a torchvision or timm ResNet (keys conv1.weight, layer1.0.conv1.weight, fc.weight)');
    return e.shape;
  };
  const block = names.has('layer1.0.conv3.weight') ? 'bottleneck' : 'basic';
  const layers = [1, 2, 3, 4].map((s) => {
    let n = 0;
    while (names.has(`layer${s}.${n}.conv1.weight`)) n++;
    if (!n) shape(`layer${s}.0.conv1.weight`);
    return n;
  });
  const widths = [1, 2, 3, 4].map((s) => shape(`layer${s}.0.conv1.weight`)[0]);
  return ResnetConfig.parse({
    kind: 'resnet', name: opts.name ?? `resnet-${block}-${layers.join('')}`, block, layers, widths,
    stemWidth: shape('conv1.weight')[0], numClasses: shape('fc.weight')[0], imageSize: opts.imageSize ?? 224,
  });
}

/**
 * A ResNet from a torchvision- or timm-layout safetensors file (or a directory holding model.safetensors):
 * every weight and running statistic the config implies, nothing missing, unexpected or mis-shaped.
 */
export function loadResnet(config: ResnetConfig, fileOrDir: string, opts: { trainable?: boolean } = {}): Resnet {
  const trainable = opts.trainable ?? true;
  const file = readSafetensors(weightsPath(fileOrDir));
  try {
    const specs = resnetSpecs(config);
    const all = new Map([...specs.params, ...specs.state]);
    const names = file.names().filter((n) => !ignored(n));
    const missing = [...all.keys()].filter((n) => !file.entries.has(n));
    const unexpected = names.filter((n) => !all.has(n));
    const misshaped = [...all].filter(([n, s]) => file.entries.has(n) && JSON.stringify(file.entries.get(n)!.shape) !== JSON.stringify(fileShape(s.shape)))
      .map(([n, s]) => `${n}: ${JSON.stringify(file.entries.get(n)!.shape)}, expected ${JSON.stringify(fileShape(s.shape))}`);
    if (missing.length || unexpected.length || misshaped.length) {
      const list = (title: string, xs: string[]) => (xs.length ? `\n  ${title} (${xs.length}): ${xs.slice(0, 20).join(', ')}${xs.length > 20 ? ', ...' : ''}` : '');
      throw new UserError(`${file.path} does not match ResNet config "${config.name}":` + list('missing', missing) + list('unexpected', unexpected) + list('mis-shaped', misshaped),
        'check block, layers, widths, stemWidth and numClasses against the checkpoint (resnetConfigFromWeights reads them from it)');
    }
    const read = (name: string, shape: number[]) => tf.tidy(() => {
      const t = tf.tensor(file.readFloat32(name), fileShape(shape), 'float32');
      return shape.length === 4 ? tf.transpose(t, [2, 3, 1, 0]) : t; // OIHW -> HWIO
    });
    const params = new Map<string, tf.Tensor>();
    for (const [name, spec] of specs.params) {
      const t = read(name, spec.shape);
      params.set(name, trainable ? tf.variable(t, true) : t);
      if (trainable) t.dispose();
    }
    const state = new Map<string, tf.Tensor>();
    for (const [name, spec] of specs.state) state.set(name, read(name, spec.shape));
    return new Resnet(config, new ParamStore(params), stateVariables(state));
  } finally {
    file.close();
  }
}
