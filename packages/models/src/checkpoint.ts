import { statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@lw/core';
import { Clip, clipSpecs } from './clip.js';
import type { ClipConfig, VitConfig } from './config.js';
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
interface Source {
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

/** Reads every spec'd parameter from the file; missing, unexpected or mis-shaped keys are one UserError. */
export function loadParams(file: SafetensorsFile, specs: Map<string, ParamSpec>, opts: { trainable: boolean; layout?: CheckpointLayout }): ParamStore {
  const layout = opts.layout ?? detectLayout(file.names(), file.path);
  const { sources, unexpected } = mapCheckpoint(file, layout);
  const missing = [...specs.keys()].filter((n) => !sources.has(n));
  unexpected.push(...[...sources.keys()].filter((n) => !specs.has(n)).map((n) => sources.get(n)!.from.join(' + ')));
  const misshaped: string[] = [];
  for (const [name, spec] of specs) {
    const s = sources.get(name);
    if (s && !sameShape(s.shape, spec.shape)) misshaped.push(`${s.from.join(' + ')}: ${JSON.stringify(s.shape)}, expected ${JSON.stringify(spec.shape)}`);
  }
  if (missing.length || unexpected.length || misshaped.length) {
    const list = (title: string, xs: string[]) => (xs.length ? `\n  ${title} (${xs.length}): ${xs.slice(0, 30).join(', ')}${xs.length > 30 ? ', ...' : ''}` : '');
    throw new UserError(
      `${file.path} (${layout} layout) does not match the model config:` + list('missing', missing) + list('unexpected', unexpected) + list('mis-shaped', misshaped),
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
