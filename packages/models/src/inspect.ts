import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '@lw/core';
import { findClipCheckpoint, matchParams, readCheckpointJson } from './checkpoint.js';
import { clipSpecs } from './clip.js';
import { type ClipConfig, configFromJson, type ModelConfig, type TextConfig, type VisionConfig, type VitConfig } from './config.js';
import type { ParamSpec } from './params.js';
import type { ResnetConfig } from './resnet-config.js';
import { resnetConfigFromWeights } from './resnet-checkpoint.js';
import { resnetSpecs } from './resnet.js';
import { readSafetensors, type SafetensorsFile } from './safetensors.js';
import { summarize } from './summary.js';
import { vitConfigFromTimm } from './timm-config.js';
import { vitClassifierSpecs } from './vit_classifier.js';

/**
 * What `lw models inspect` finds at a checkpoint path: which importer reads it (layout), where its config
 * comes from, the architecture, and whether the weights line up with that config. CLIP checkpoints go
 * through findClipCheckpoint (train/clip-import's reader); timm ViT folders through vitConfigFromTimm
 * (train/vit-import's); torchvision / timm ResNet state dicts through resnetConfigFromWeights.
 */
export interface CheckpointReport {
  path: string;
  kind: ModelConfig['kind'];
  /** hf-clip | openclip | openai-clip (CLIP), timm (ViT), resnet (torchvision/timm key names), lw (a model task of this tool). */
  layout: string;
  configSource: string;
  weights: string;
  config: ModelConfig;
  /** Parameters of the config (trainable weights; a ResNet's running statistics are not counted). */
  parameters: number;
  match: { ok: boolean; tensors: number; missing: number; unexpected: number; misshaped: number; first?: string };
}

export interface InspectOptions {
  /** Heads of a bare OpenAI CLIP state dict whose widths are not multiples of 64. */
  heads?: { vision?: number; text?: number };
}

export function inspectCheckpoint(path: string, opts: InspectOptions = {}): CheckpointReport {
  const weights = weightsFile(path);
  const file = readSafetensors(weights);
  try {
    const names = new Set(file.names());
    const own = ownConfig(path);
    if (names.has('conv1.weight') && names.has('layer1.0.conv1.weight')) return resnetReport(path, file, own?.kind === 'resnet' ? own : undefined);
    if (names.has('patch_embed.proj.weight')) return timmReport(path, file, own?.kind === 'vit' ? own : undefined);
  } finally {
    file.close();
  }
  const found = findClipCheckpoint(path, { heads: opts.heads });
  const st = readSafetensors(found.file);
  try {
    const m = matchParams(st, clipSpecs(found.config));
    return {
      path, kind: 'clip', layout: found.layout, configSource: found.configSource, weights: found.file, config: found.config,
      parameters: summarize(found.config).total, match: matchSummary(st, m.missing.length, m.unexpected.length, m.misshaped.length, m.first),
    };
  } finally {
    st.close();
  }
}

/** The weights of a path: the file itself, or a folder's model.safetensors / OpenCLIP weights / only .safetensors file. */
function weightsFile(path: string): string {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    throw new UserError(`cannot read checkpoint ${path}: ${(e as Error).message}`, 'give a checkpoint folder or a .safetensors file', { cause: e });
  }
  if (!isDir) {
    if (!path.endsWith('.safetensors')) throw new UserError(`${path} is not a .safetensors file`, 'weights are read from .safetensors only');
    return path;
  }
  for (const f of ['model.safetensors', 'open_clip_model.safetensors', 'open_clip_pytorch_model.safetensors']) if (existsSync(join(path, f))) return join(path, f);
  const all = readdirSync(path).filter((f) => f.endsWith('.safetensors'));
  if (all.length === 1) return join(path, all[0]);
  throw new UserError(`${path}: ${all.length ? `${all.length} .safetensors files (${all.join(', ')})` : 'no .safetensors file'}`, 'give the weights file itself');
}

function matchSummary(file: SafetensorsFile, missing: number, unexpected: number, misshaped: number, first?: string): CheckpointReport['match'] {
  return { ok: !missing && !unexpected && !misshaped, tensors: file.names().length, missing, unexpected, misshaped, ...(first ? { first } : {}) };
}

const configJsonOf = (path: string) => join(statSync(path).isDirectory() ? path : dirname(path), 'config.json');

/** The config.json of a model task of this tool (train/vit-import, train/classify, ...): one with a `kind`. */
function ownConfig(path: string): ModelConfig | undefined {
  const file = configJsonOf(path);
  if (!existsSync(file)) return undefined;
  const json = readCheckpointJson(file);
  return typeof json === 'object' && json !== null && 'kind' in json ? configFromJson(json, file) : undefined;
}

function timmReport(path: string, file: SafetensorsFile, own?: VitConfig): CheckpointReport {
  const configJson = configJsonOf(path);
  if (own) return vitReport(path, file, 'lw', configJson, own);
  if (!existsSync(configJson)) {
    throw new UserError(`${file.path} is a timm ViT (patch_embed.proj.weight) with no config.json beside it, so its config cannot be read`,
      'keep the config.json timm saves with the weights, or import it with train/vit-import and a named ViT config');
  }
  return vitReport(path, file, 'timm', configJson, vitConfigFromTimm(readCheckpointJson(configJson), { source: configJson }).config);
}

function vitReport(path: string, file: SafetensorsFile, layout: string, configSource: string, config: VitConfig): CheckpointReport {
  const m = matchParams(file, vitClassifierSpecs(config, config.numClasses), 'timm');
  return {
    path, kind: 'vit', layout, configSource, weights: file.path, config,
    parameters: summarize(config).total, match: matchSummary(file, m.missing.length, m.unexpected.length, m.misshaped.length, m.first),
  };
}

function resnetReport(path: string, file: SafetensorsFile, own?: ResnetConfig): CheckpointReport {
  const config = own ?? resnetConfigFromWeights(file, { name: path.replace(/[/\\]+$/, '').split(/[/\\]/).pop() });
  const { params, state } = resnetSpecs(config);
  const specs = new Map<string, ParamSpec>([...params, ...state]);
  // The file holds convs as OIHW [out, in, kh, kw]; the specs are HWIO [kh, kw, in, out].
  const fileShape = (s: number[]) => (s.length === 4 ? [s[3], s[2], s[0], s[1]] : s);
  const names = file.names().filter((n) => !n.endsWith('.num_batches_tracked'));
  const missing = [...specs.keys()].filter((n) => !file.entries.has(n));
  const unexpected = names.filter((n) => !specs.has(n));
  const misshaped = [...specs].filter(([n, s]) => file.entries.has(n) && JSON.stringify(file.entries.get(n)!.shape) !== JSON.stringify(fileShape(s.shape)))
    .map(([n, s]) => `ill-shaped ${n}: ${JSON.stringify(file.entries.get(n)!.shape)}, expected ${JSON.stringify(fileShape(s.shape))}`);
  const first = missing.length ? `missing ${missing[0]}` : misshaped[0] ?? (unexpected.length ? `unexpected ${unexpected[0]}` : undefined);
  return {
    path, kind: 'resnet', layout: own ? 'lw' : 'resnet', weights: file.path,
    configSource: own ? configJsonOf(path) : `tensor shapes of ${file.path} (image size not stored: ${config.imageSize} assumed)`,
    config, parameters: summarize(config).total, match: matchSummary(file, missing.length, unexpected.length, misshaped.length, first),
  };
}

const LAYOUTS: Record<string, string> = {
  'hf-clip': 'Hugging Face CLIPModel', openclip: 'OpenCLIP', lw: 'model task of this tool', 'openai-clip': 'OpenAI CLIP state dict',
  timm: 'timm VisionTransformer', resnet: 'torchvision / timm ResNet',
};

const eps = (x: number) => (x < 1e-3 ? x.toExponential() : String(x));
const visionLine = (v: VisionConfig) =>
  `${v.imageSize} px, patch ${v.patchSize}, width ${v.width}, ${v.layers} layers, ${v.heads} heads, MLP ${v.mlpWidth}, ${v.activation}, LayerNorm eps ${eps(v.lnEps)}`;
const textLine = (t: TextConfig) =>
  `width ${t.width}, ${t.layers} layers, ${t.heads} heads, MLP ${t.mlpWidth}, ${t.activation}, LayerNorm eps ${eps(t.lnEps)}, vocabulary ${t.vocabSize}, context ${t.contextLength}, ${t.tokenizer === 'bpe' ? 'CLIP BPE' : 'word'} tokenizer`;

/** The report as aligned text lines. */
export function formatReport(r: CheckpointReport): string[] {
  const rows: [string, string][] = [
    ['layout', `${r.layout} (${LAYOUTS[r.layout] ?? r.layout})`],
    ['config from', r.configSource],
    ['weights', r.weights],
  ];
  const c = r.config;
  if (c.kind === 'clip') {
    const clip = c as ClipConfig;
    rows.push(['image tower', visionLine(clip.vision)], ['text tower', textLine(clip.text)], ['projection', String(clip.embedDim)]);
  } else if (c.kind === 'vit') {
    const vit = c as VitConfig;
    rows.push(['image tower', visionLine(vit.vision)], ['classes', String(vit.numClasses)]);
  } else {
    const res = c as ResnetConfig;
    rows.push(['blocks', `${res.block}, layers ${res.layers.join('-')}, widths ${res.widths.join('-')}, stem ${res.stemWidth}`], ['classes', String(res.numClasses)]);
  }
  rows.push(['parameters', r.parameters.toLocaleString('en-US')]);
  const m = r.match;
  rows.push(['weights match', m.ok ? `yes (${m.tensors} tensors)` : `no: ${m.missing} missing, ${m.unexpected} unexpected, ${m.misshaped} mis-shaped; first: ${m.first}`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return [`${r.path}: ${c.kind} "${c.name}"`, ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)];
}
