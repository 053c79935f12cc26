import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '@lw/core';
import { Clip, clipSpecs } from './clip.js';
import { type ClipConfig, configFromJson, type VitConfig } from './config.js';
import { clipConfigFromHf, isHfClipJson } from './hf-clip-config.js';
import { checkpointName } from './imported-config.js';
import { clipConfigFromShapes } from './openai-clip-shapes.js';
import { clipConfigFromOpenClip } from './openclip-config.js';
import { type ParamSpec, ParamStore } from './params.js';
import { readSafetensors, type SafetensorsFile } from './safetensors.js';
import { tf } from './tf.js';
import { type VitClassifier, vitClassifierFromParams, vitClassifierSpecs } from './vit_classifier.js';

/**
 * Checkpoint key layouts and loading. Inside, CLIP weights carry OpenAI's original state-dict names and
 * the ViT classifier timm's; a Hugging Face `CLIPModel` file is mapped onto OpenAI names:
 * q/k/v projections are concatenated into in_proj, and the projection Linears transposed into
 * OpenAI's [in, out] `proj` / `text_projection` matrices.
 */
export type CheckpointLayout = 'openai-clip' | 'hf-clip' | 'timm';

/** A checkpoint tensor under its internal name, read when needed. */
export interface Source {
  shape: number[];
  /** File names it comes from (for error messages). */
  from: string[];
  read(): Float32Array;
}

/** Keys that checkpoints carry but that are not weights. */
const IGNORED = [/\.position_ids$/, /^input_resolution$/, /^context_length$/, /^vocab_size$/];

export function detectLayout(names: string[], path: string): CheckpointLayout {
  const has = (n: string) => names.includes(n);
  if (has('vision_model.embeddings.patch_embedding.weight') || has('text_model.embeddings.token_embedding.weight')) return 'hf-clip';
  if (has('visual.conv1.weight') || has('token_embedding.weight')) return 'openai-clip';
  if (has('patch_embed.proj.weight')) return 'timm';
  throw new UserError(`${path}: cannot tell the checkpoint layout from its ${names.length} keys (first: ${names.slice(0, 3).join(', ')})`,
    'expected a Hugging Face CLIPModel (vision_model.*), an OpenAI CLIP state dict (visual.conv1.weight) or a timm ViT (patch_embed.proj.weight)');
}

const HF_BLOCK: [RegExp, string][] = [
  [/^layer_norm1\./, 'ln_1.'], [/^layer_norm2\./, 'ln_2.'], [/^mlp\.fc1\./, 'mlp.c_fc.'], [/^mlp\.fc2\./, 'mlp.c_proj.'],
  [/^self_attn\.out_proj\./, 'attn.out_proj.'],
];

/** OpenAI name of one HF name, or a q/k/v part, or null when it has no counterpart. */
function hfName(name: string): { name: string; transpose?: boolean } | { qkv: string; part: 0 | 1 | 2; kind: 'weight' | 'bias' } | null {
  const fixed: Record<string, string> = {
    'vision_model.embeddings.patch_embedding.weight': 'visual.conv1.weight',
    'vision_model.embeddings.class_embedding': 'visual.class_embedding',
    'vision_model.embeddings.position_embedding.weight': 'visual.positional_embedding',
    'text_model.embeddings.token_embedding.weight': 'token_embedding.weight',
    'text_model.embeddings.position_embedding.weight': 'positional_embedding',
    logit_scale: 'logit_scale',
  };
  if (fixed[name]) return { name: fixed[name] };
  if (name === 'visual_projection.weight') return { name: 'visual.proj', transpose: true };
  if (name === 'text_projection.weight') return { name: 'text_projection', transpose: true };
  let m = /^vision_model\.(pre_layrnorm|post_layernorm)\.(weight|bias)$/.exec(name);
  if (m) return { name: `visual.${m[1] === 'pre_layrnorm' ? 'ln_pre' : 'ln_post'}.${m[2]}` };
  m = /^text_model\.final_layer_norm\.(weight|bias)$/.exec(name);
  if (m) return { name: `ln_final.${m[1]}` };
  m = /^(vision_model|text_model)\.encoder\.layers\.(\d+)\.(.+)$/.exec(name);
  if (!m) return null;
  const prefix = `${m[1] === 'vision_model' ? 'visual.' : ''}transformer.resblocks.${m[2]}.`;
  const rest = m[3];
  const qkv = /^self_attn\.([qkv])_proj\.(weight|bias)$/.exec(rest);
  if (qkv) {
    const kind = qkv[2] as 'weight' | 'bias';
    return { qkv: `${prefix}attn.in_proj_${kind}`, part: 'qkv'.indexOf(qkv[1]) as 0 | 1 | 2, kind };
  }
  for (const [re, to] of HF_BLOCK) if (re.test(rest)) return { name: prefix + rest.replace(re, to) };
  return null;
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** The file's tensors under internal names, plus file keys that map to nothing. */
export function mapCheckpoint(file: SafetensorsFile, layout: CheckpointLayout): { sources: Map<string, Source>; unexpected: string[] } {
  const sources = new Map<string, Source>();
  const unexpected: string[] = [];
  const direct = (name: string): Source => ({ shape: file.entries.get(name)!.shape, from: [name], read: () => file.readFloat32(name) });
  const qkvParts = new Map<string, (string | undefined)[]>();

  for (const name of file.names()) {
    if (IGNORED.some((re) => re.test(name))) continue;
    if (layout !== 'hf-clip') {
      sources.set(name, direct(name));
      continue;
    }
    const m = hfName(name);
    if (!m) unexpected.push(name);
    else if ('qkv' in m) {
      const parts = qkvParts.get(m.qkv) ?? [undefined, undefined, undefined];
      parts[m.part] = name;
      qkvParts.set(m.qkv, parts);
    } else if (m.transpose) {
      const [rows, cols] = file.entries.get(name)!.shape;
      sources.set(m.name, { shape: [cols, rows], from: [name], read: () => transpose2d(file.readFloat32(name), rows, cols) });
    } else sources.set(m.name, { ...direct(name), from: [name] });
  }
  // in_proj = [q; k; v] stacked along the output axis.
  for (const [target, parts] of qkvParts) {
    if (parts.some((p) => p === undefined)) {
      unexpected.push(...(parts.filter(Boolean) as string[]).map((p) => `${p} (its q/k/v siblings are missing)`));
      continue;
    }
    const names = parts as string[];
    const shape0 = file.entries.get(names[0])!.shape;
    sources.set(target, {
      shape: [3 * shape0[0], ...shape0.slice(1)], from: names,
      read: () => {
        const chunks = names.map((n) => file.readFloat32(n));
        const out = new Float32Array(chunks.reduce((a, c) => a + c.length, 0));
        let o = 0;
        for (const c of chunks) { out.set(c, o); o += c.length; }
        return out;
      },
    });
  }
  return { sources, unexpected };
}

const sameShape = (a: number[], b: number[]) =>
  a.length === b.length ? a.every((v, i) => v === b[i]) : a.reduce((x, y) => x * y, 1) === 1 && b.reduce((x, y) => x * y, 1) === 1;

/** How a file's tensors line up with a config's parameters (internal names, in the config's order). */
export interface ParamMatch {
  layout: CheckpointLayout;
  sources: Map<string, Source>;
  /** Config parameters the file lacks. */
  missing: string[];
  /** File keys (as the file names them) that the config has no place for. */
  unexpected: string[];
  /** `file key: [shape], expected [shape]` per parameter whose shape differs. */
  misshaped: string[];
  /** The first config parameter that is missing or ill-shaped (file name and internal name), else the first unexpected key. */
  first?: string;
}

export function matchParams(file: SafetensorsFile, specs: Map<string, ParamSpec>, layout: CheckpointLayout = detectLayout(file.names(), file.path)): ParamMatch {
  const { sources, unexpected } = mapCheckpoint(file, layout);
  const missing: string[] = [], misshaped: string[] = [];
  let first: string | undefined;
  for (const [name, spec] of specs) {
    const s = sources.get(name);
    if (!s) {
      missing.push(name);
      first ??= `missing ${fileKeyName(name, layout)}`;
    } else if (!sameShape(s.shape, spec.shape)) {
      misshaped.push(`${s.from.join(' + ')}: ${JSON.stringify(s.shape)}, expected ${JSON.stringify(spec.shape)}`);
      first ??= `ill-shaped ${misshaped[misshaped.length - 1]}`;
    }
  }
  unexpected.push(...[...sources.keys()].filter((n) => !specs.has(n)).map((n) => sources.get(n)!.from.join(' + ')));
  first ??= unexpected.length ? `unexpected ${unexpected[0]}` : undefined;
  return { layout, sources, missing, unexpected, misshaped, first };
}

/**
 * The name a parameter has in a file of this layout, for messages: Hugging Face names are given with the
 * internal (OpenAI) name after them; in_proj is named by its q_proj part.
 */
export function fileKeyName(internal: string, layout: CheckpointLayout): string {
  if (layout !== 'hf-clip') return internal;
  const hf = hfNameOf(internal);
  return hf ? `${hf} (${internal})` : internal;
}

function hfNameOf(internal: string): string | null {
  const fixed: Record<string, string> = {
    'visual.conv1.weight': 'vision_model.embeddings.patch_embedding.weight',
    'visual.class_embedding': 'vision_model.embeddings.class_embedding',
    'visual.positional_embedding': 'vision_model.embeddings.position_embedding.weight',
    'token_embedding.weight': 'text_model.embeddings.token_embedding.weight',
    positional_embedding: 'text_model.embeddings.position_embedding.weight',
    logit_scale: 'logit_scale',
    'visual.proj': 'visual_projection.weight',
    text_projection: 'text_projection.weight',
  };
  if (fixed[internal]) return fixed[internal];
  let m = /^visual\.(ln_pre|ln_post)\.(weight|bias)$/.exec(internal);
  if (m) return `vision_model.${m[1] === 'ln_pre' ? 'pre_layrnorm' : 'post_layernorm'}.${m[2]}`;
  m = /^ln_final\.(weight|bias)$/.exec(internal);
  if (m) return `text_model.final_layer_norm.${m[1]}`;
  m = /^(visual\.)?transformer\.resblocks\.(\d+)\.(.+)$/.exec(internal);
  if (!m) return null;
  const prefix = `${m[1] ? 'vision_model' : 'text_model'}.encoder.layers.${m[2]}.`;
  const qkv = /^attn\.in_proj_(weight|bias)$/.exec(m[3]);
  if (qkv) return `${prefix}self_attn.q_proj.${qkv[1]}`;
  const part = /^(ln_1|ln_2|mlp\.c_fc|mlp\.c_proj|attn\.out_proj)\.(weight|bias)$/.exec(m[3]);
  const hfPart: Record<string, string> = { ln_1: 'layer_norm1', ln_2: 'layer_norm2', 'mlp.c_fc': 'mlp.fc1', 'mlp.c_proj': 'mlp.fc2', 'attn.out_proj': 'self_attn.out_proj' };
  if (part) return `${prefix}${hfPart[part[1]]}.${part[2]}`;
  return null;
}

/**
 * Reads every spec'd parameter from the file. Missing, unexpected or mis-shaped keys are one UserError whose
 * first line names the first missing or ill-shaped parameter; the lists follow.
 */
export function loadParams(file: SafetensorsFile, specs: Map<string, ParamSpec>, opts: { trainable: boolean; layout?: CheckpointLayout }): ParamStore {
  const match = matchParams(file, specs, opts.layout);
  const { layout, sources, missing, unexpected, misshaped } = match;
  if (match.first) {
    const list = (title: string, xs: string[]) => (xs.length ? `\n  ${title} (${xs.length}): ${xs.slice(0, 30).join(', ')}${xs.length > 30 ? ', ...' : ''}` : '');
    throw new UserError(
      `${file.path} (${layout} layout) does not match the model config: ${match.first}` + list('missing', missing) + list('unexpected', unexpected) + list('mis-shaped', misshaped),
      'check that the config (size, patch, layers, vocabulary, classes) is the one the checkpoint was trained with');
  }
  const tensors = new Map<string, tf.Tensor>();
  for (const [name, spec] of specs) {
    const t = tf.tensor(sources.get(name)!.read(), spec.shape, 'float32');
    tensors.set(name, opts.trainable ? tf.variable(t, true) : t);
    if (opts.trainable) t.dispose();
  }
  return new ParamStore(tensors);
}

/**
 * Where a CLIP checkpoint's config comes from, by what lies at the path:
 *  - `hf-clip`: config.json with model_type "clip" (CLIPModel.save_pretrained) + model.safetensors;
 *  - `openclip`: open_clip_config.json + open_clip_model.safetensors (or open_clip_pytorch_model.safetensors),
 *    OpenAI key names;
 *  - `lw`: a model task of this tool (train/clip-pretrain, train/clip-import): our config.json + model.safetensors;
 *  - `openai-clip`: a bare OpenAI state dict (visual.conv1.weight, ...) as .safetensors; the config is read
 *    from its tensor shapes (clipConfigFromShapes).
 * A file path is read with the config files beside it; a folder is searched for them.
 */
export type ClipCheckpointLayout = 'hf-clip' | 'openclip' | 'lw' | 'openai-clip';

export interface ClipCheckpoint {
  layout: ClipCheckpointLayout;
  /** The file the config was read from, `tensor shapes of FILE`, or `given config NAME`. */
  configSource: string;
  config: ClipConfig;
  /** The weights (.safetensors). */
  file: string;
}

const OPENCLIP_WEIGHTS = ['open_clip_model.safetensors', 'open_clip_pytorch_model.safetensors'];
const STANDARD_WEIGHTS = ['model.safetensors', ...OPENCLIP_WEIGHTS];

export interface FindClipOptions {
  /** Heads per tower for a bare OpenAI state dict whose widths are not multiples of 64 (they leave no trace in the shapes). */
  heads?: { vision?: number; text?: number };
  /** Use this config instead of reading the checkpoint's own (the layout is still detected; loading checks it against the weights). */
  config?: ClipConfig;
}

export function findClipCheckpoint(path: string, opts: FindClipOptions = {}): ClipCheckpoint {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    throw new UserError(`cannot read checkpoint ${path}: ${(e as Error).message}`, 'give a checkpoint folder (Hugging Face, OpenCLIP) or an OpenAI CLIP .safetensors file', { cause: e });
  }
  const dir = isDir ? path : dirname(path);
  const given = isDir ? undefined : safetensorsPath(path);
  const name = checkpointName(isDir || STANDARD_WEIGHTS.includes(basename(path)) ? dir : path, isDir || STANDARD_WEIGHTS.includes(basename(path)));
  const weights = (candidates: string[]): string => {
    if (given) return given;
    const found = candidates.map((c) => join(dir, c)).find((f) => existsSync(f));
    if (found) return found;
    const other = readdirSync(dir).filter((f) => /\.(bin|pt|pth|ckpt)$/.test(f));
    throw new UserError(`${dir}: no ${candidates.join(' or ')}${other.length ? ` (found ${other.join(', ')})` : ''}`,
      'weights are read from .safetensors only; convert a PyTorch file with safetensors.torch.save_file(torch.load(path), "model.safetensors")');
  };
  // The checkpoint's own config, unless one was given.
  const own = (source: string, read: () => ClipConfig): { configSource: string; config: ClipConfig } =>
    (opts.config ? { configSource: `given config ${opts.config.name}`, config: opts.config } : { configSource: source, config: read() });

  const configJson = join(dir, 'config.json');
  if (existsSync(configJson)) {
    const json = readCheckpointJson(configJson);
    if (isHfClipJson(json)) return { layout: 'hf-clip', ...own(configJson, () => clipConfigFromHf(json, { name, source: configJson })), file: weights(['model.safetensors']) };
    const o = (json ?? {}) as Record<string, unknown>;
    if (o.kind === 'clip') return { layout: 'lw', ...own(configJson, () => configFromJson(json, configJson) as ClipConfig), file: weights(['model.safetensors']) };
    if (isDir || !existsSync(join(dir, 'open_clip_config.json'))) {
      if ('architecture' in o) throw new UserError(`${configJson} is a timm model config (architecture ${JSON.stringify(o.architecture)}), not a CLIP: import timm ViTs with train/vit-import`, 'train/clip-import reads Hugging Face CLIPModel and OpenCLIP folders and OpenAI CLIP state dicts');
      if (o.kind !== undefined) throw new UserError(`${configJson} is a ${String(o.kind)} config, not a CLIP`, 'train/clip-import reads CLIP checkpoints');
      if (isDir) throw new UserError(`${configJson}: model_type is ${JSON.stringify(o.model_type)}, not "clip"`, 'give a Hugging Face CLIPModel folder (model_type "clip"), an OpenCLIP folder (open_clip_config.json) or an OpenAI CLIP .safetensors file');
    }
  }
  const openclipJson = join(dir, 'open_clip_config.json');
  if (existsSync(openclipJson)) {
    return { layout: 'openclip', ...own(openclipJson, () => clipConfigFromOpenClip(readCheckpointJson(openclipJson), { name, source: openclipJson })), file: weights(OPENCLIP_WEIGHTS) };
  }
  const file = given ?? onlySafetensors(dir);
  const st = readSafetensors(file);
  try {
    const layout = detectLayout(st.names(), file);
    if (layout === 'hf-clip') {
      if (opts.config) return { layout: 'hf-clip', configSource: `given config ${opts.config.name}`, config: opts.config, file };
      throw new UserError(`${file} has Hugging Face CLIP keys but no config.json beside it`, 'keep config.json (CLIPModel.save_pretrained writes it) in the same folder, or name the config');
    }
    if (layout === 'timm') throw new UserError(`${file} is a timm ViT (patch_embed.proj.weight), not a CLIP: import timm ViTs with train/vit-import`, 'train/clip-import reads Hugging Face CLIPModel and OpenCLIP folders and OpenAI CLIP state dicts');
    const shapes = new Map([...st.entries].map(([k, e]) => [k, e.shape]));
    const source = `tensor shapes of ${file}`;
    return { layout: 'openai-clip', ...own(source, () => clipConfigFromShapes(shapes, { name, source, heads: opts.heads })), file };
  } finally {
    st.close();
  }
}

/** A CLIP checkpoint found by findClipCheckpoint, loaded with its own config or with `config` (checked against the weights). */
export function loadClipCheckpoint(path: string, opts: FindClipOptions & { trainable?: boolean } = {}): { clip: Clip; found: ClipCheckpoint } {
  const found = findClipCheckpoint(path, opts);
  return { clip: loadClip(found.config, found.file, { trainable: opts.trainable }), found };
}

function safetensorsPath(file: string): string {
  if (!file.endsWith('.safetensors')) {
    throw new UserError(`${file} is not a .safetensors file`, 'convert a PyTorch state dict with safetensors.torch.save_file(torch.load(path), "model.safetensors")');
  }
  return file;
}

function onlySafetensors(dir: string): string {
  if (existsSync(join(dir, 'model.safetensors'))) return join(dir, 'model.safetensors');
  const all = readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
  if (all.length === 1) return join(dir, all[0]);
  throw new UserError(`${dir}: ${all.length ? `${all.length} .safetensors files (${all.join(', ')}) and no config file to choose between them` : 'no config.json, open_clip_config.json or .safetensors file'}`,
    'give the weights file itself, or a Hugging Face CLIP folder (config.json) or an OpenCLIP folder (open_clip_config.json)');
}

/** A config file that came with a checkpoint, parsed; a UserError names it when it is not JSON. */
export function readCheckpointJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as Error).message}`, 'it should be the JSON file the checkpoint came with', { cause: e });
  }
}

/** A directory holding `model.safetensors`, or the file itself. */
function checkpointPath(fileOrDir: string): string {
  try {
    return statSync(fileOrDir).isDirectory() ? join(fileOrDir, 'model.safetensors') : fileOrDir;
  } catch (e) {
    throw new UserError(`cannot read checkpoint ${fileOrDir}: ${(e as Error).message}`, 'give a .safetensors file or a directory holding model.safetensors', { cause: e });
  }
}

/** A frozen CLIP from an OpenAI- or Hugging-Face-layout safetensors checkpoint (fp16/bf16 are widened to fp32). */
export function loadClip(config: ClipConfig, fileOrDir: string, opts: { trainable?: boolean } = {}): Clip {
  const file = readSafetensors(checkpointPath(fileOrDir));
  try {
    return new Clip(config, loadParams(file, clipSpecs(config), { trainable: opts.trainable ?? false }));
  } finally {
    file.close();
  }
}

/** A trainable timm ViT classifier from a timm-layout safetensors checkpoint. */
export function loadVit(config: VitConfig, fileOrDir: string, opts: { trainable?: boolean } = {}): VitClassifier {
  const file = readSafetensors(checkpointPath(fileOrDir));
  try {
    const params = loadParams(file, vitClassifierSpecs(config, config.numClasses), { trainable: opts.trainable ?? true, layout: 'timm' });
    return vitClassifierFromParams(config, params);
  } finally {
    file.close();
  }
}
