// Synthetic inputs with the real study's shapes, made without network by the project's own code:
// THINGS-named JPEGs, the behavioural files (copied from a THINGS meta folder), a random-weight
// CLIP ViT-L/14 checkpoint in Hugging Face CLIPModel layout (@lw/models' safetensors writer; the
// import stage maps it back by its own key map) and a valid 49,408-entry CLIP BPE vocabulary.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToUnicode, ClipTokenizer, clipSpecs, modelConfig, writeSafetensors } from '@lw/models';

export const META_FILES = ['spose_embedding66d_rescaled.csv', 'triplet48_index.npy', 'RDM48_triplet.mat', 'spose_dimensions66.txt'];

/** Image names in the SPoSE CSV's order (`,image_name,0..65`: the second field). */
export function thingsNames(csv) {
  return readFileSync(csv, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[1]);
}

/** A fast xorshift32 stream: the weights' and pixels' values do not matter for timing, only their scale. */
function xorshift(seed) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return (s >>> 0) / 4294967296; };
}

/** 1854 JPEGs of `width` x `height` (smooth colour fields plus noise, so JPEG decode costs what a photo costs). */
export async function writeImages(dir, names, { width = 500, height = 400, concurrency = 16 } = {}) {
  const { default: sharp } = await import('sharp');
  mkdirSync(dir, { recursive: true });
  let next = 0;
  const one = async (i) => {
    const rnd = xorshift(i + 1), px = Buffer.alloc(width * height * 3);
    const a = rnd() * 255, b = rnd() * 255, c = rnd() * 255;
    for (let y = 0, o = 0; y < height; y++) for (let x = 0; x < width; x++, o += 3) {
      px[o] = (a + x * 0.3 + rnd() * 40) & 255; px[o + 1] = (b + y * 0.3 + rnd() * 40) & 255; px[o + 2] = (c + (x + y) * 0.2 + rnd() * 40) & 255;
    }
    await sharp(px, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toFile(join(dir, names[i]));
  };
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < names.length) await one(next++); }));
}

/** OpenAI-layout parameter name -> its Hugging Face CLIPModel name(s), the inverse of @lw/models' key map. */
function hfNames(name, shape) {
  const fixed = {
    'visual.conv1.weight': 'vision_model.embeddings.patch_embedding.weight',
    'visual.class_embedding': 'vision_model.embeddings.class_embedding',
    'visual.positional_embedding': 'vision_model.embeddings.position_embedding.weight',
    'token_embedding.weight': 'text_model.embeddings.token_embedding.weight',
    'positional_embedding': 'text_model.embeddings.position_embedding.weight',
    'logit_scale': 'logit_scale',
  };
  if (fixed[name]) return [{ name: fixed[name], shape }];
  if (name === 'visual.proj') return [{ name: 'visual_projection.weight', shape: [shape[1], shape[0]], transpose: true }];
  if (name === 'text_projection') return [{ name: 'text_projection.weight', shape: [shape[1], shape[0]], transpose: true }];
  let m = /^visual\.(ln_pre|ln_post)\.(weight|bias)$/.exec(name);
  if (m) return [{ name: `vision_model.${m[1] === 'ln_pre' ? 'pre_layrnorm' : 'post_layernorm'}.${m[2]}`, shape }];
  m = /^ln_final\.(weight|bias)$/.exec(name);
  if (m) return [{ name: `text_model.final_layer_norm.${m[1]}`, shape }];
  m = /^(visual\.)?transformer\.resblocks\.(\d+)\.(.+)$/.exec(name);
  if (!m) throw new Error(`no Hugging Face name for ${name}`);
  const prefix = `${m[1] ? 'vision_model' : 'text_model'}.encoder.layers.${m[2]}.`;
  const qkv = /^attn\.in_proj_(weight|bias)$/.exec(m[3]);
  if (qkv) return ['q', 'k', 'v'].map((p) => ({ name: `${prefix}self_attn.${p}_proj.${qkv[1]}`, shape: [shape[0] / 3, ...shape.slice(1)] }));
  const map = [[/^ln_1\./, 'layer_norm1.'], [/^ln_2\./, 'layer_norm2.'], [/^mlp\.c_fc\./, 'mlp.fc1.'], [/^mlp\.c_proj\./, 'mlp.fc2.'], [/^attn\.out_proj\./, 'self_attn.out_proj.']];
  for (const [re, to] of map) if (re.test(m[3])) return [{ name: prefix + m[3].replace(re, to), shape }];
  throw new Error(`no Hugging Face name for ${name}`);
}

/** Values with the init's scale: uniform with the normal's std where the spec says normal. */
function fill(spec, n, rnd) {
  const out = new Float32Array(n), init = spec.init;
  if (init.kind === 'ones') out.fill(1);
  else if (init.kind === 'constant') out.fill(init.value);
  else if (init.kind !== 'zeros') {
    const bound = init.kind === 'uniform' ? init.bound : init.std * Math.sqrt(3);
    for (let i = 0; i < n; i++) out[i] = (rnd() * 2 - 1) * bound;
  }
  return out;
}

/** model.safetensors (+ config.json) of a random-weight CLIP of `configName` in Hugging Face layout. */
export function writeHfCheckpoint(dir, configName = 'clip-vit-l14') {
  mkdirSync(dir, { recursive: true });
  const config = modelConfig(configName);
  const rnd = xorshift(20);
  const tensors = {};
  let count = 0;
  for (const [name, spec] of clipSpecs(config)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const parts = hfNames(name, spec.shape);
    for (const part of parts) {
      const size = part.shape.reduce((a, b) => a * b, 1);
      tensors[part.name] = { dtype: 'F32', shape: part.shape.length ? part.shape : [], data: fill(spec, size, rnd) };
      count += size;
    }
    if (parts.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0) !== n) throw new Error(`${name}: split sizes do not add up`);
  }
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['CLIPModel'], model_type: 'clip', note: `random weights, ${configName} shapes (bench/study-gpu)` }, null, 2));
  return { parameters: count, tensors: Object.keys(tensors).length };
}

/**
 * vocab.json + merges.txt of a valid CLIP BPE vocabulary: 256 byte symbols, the same with </w>, 48,894
 * merges, <|startoftext|> and <|endoftext|> (49,408). The first merges are learned from the prompts
 * (most frequent pair first, as BPE training does), so prompts tokenise to about one token per word as
 * with CLIP's real vocabulary; the rest are byte pairs. Checked by loading it with @lw/models' tokenizer.
 */
export function writeVocabulary(dir, promptsFile) {
  mkdirSync(dir, { recursive: true });
  const byteMap = bytesToUnicode();
  const words = new Map();
  for (const line of readFileSync(promptsFile, 'utf8').split('\n')) {
    for (const piece of line.toLowerCase().match(/'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/gu) ?? []) {
      const mapped = Array.from(Buffer.from(piece, 'utf8'), (b) => byteMap[b]);
      const key = [...mapped.slice(0, -1), `${mapped.at(-1)}</w>`].join(' ');
      words.set(key, (words.get(key) ?? 0) + 1);
    }
  }
  const TOTAL = 49152 - 256 - 2;
  const merges = [];
  const tokens = new Set([...byteMap, ...byteMap.map((c) => `${c}</w>`)]);
  let corpus = [...words].map(([k, n]) => [k.split(' '), n]);
  for (;;) {
    const pairs = new Map();
    for (const [w, n] of corpus) for (let i = 0; i < w.length - 1; i++) { const k = `${w[i]} ${w[i + 1]}`; pairs.set(k, (pairs.get(k) ?? 0) + n); }
    let best = '', bestN = 0;
    for (const [k, n] of pairs) if (n > bestN) { best = k; bestN = n; }
    if (!bestN) break;
    const [a, b] = best.split(' ');
    if (!tokens.has(a + b)) { merges.push([a, b]); tokens.add(a + b); }
    corpus = corpus.map(([w, n]) => {
      const out = [];
      for (let i = 0; i < w.length; i++) if (i < w.length - 1 && w[i] === a && w[i + 1] === b) { out.push(a + b); i++; } else out.push(w[i]);
      return [out, n];
    });
  }
  for (let i = 0; i < 256 && merges.length < TOTAL; i++) for (let j = 0; j < 256 && merges.length < TOTAL; j++) {
    for (const tail of [`${byteMap[j]}</w>`, byteMap[j]]) {
      if (merges.length >= TOTAL || tokens.has(byteMap[i] + tail)) continue;
      merges.push([byteMap[i], tail]);
      tokens.add(byteMap[i] + tail);
    }
  }
  const list = [...byteMap, ...byteMap.map((c) => `${c}</w>`), ...merges.map(([a, b]) => a + b), '<|startoftext|>', '<|endoftext|>'];
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(Object.fromEntries(list.map((t, i) => [t, i]))));
  writeFileSync(join(dir, 'merges.txt'), ['#version: 0.2', ...merges.map(([a, b]) => `${a} ${b}`)].join('\n') + '\n');
  const tok = ClipTokenizer.fromPath(dir);
  if (tok.vocabSize !== 49408) throw new Error(`synthetic vocabulary has ${tok.vocabSize} entries, not 49,408`);
  const lengths = readFileSync(promptsFile, 'utf8').trim().split('\n').map((p) => tok.encode(p).length + 2);
  return { entries: tok.vocabSize, merges: merges.length, promptTokens: { min: Math.min(...lengths), max: Math.max(...lengths) } };
}

/** Everything under `work`: images/, meta/, clip/ (checkpoint + tokenizer). Reuses what a previous call made. */
export async function makeInputs(work, metaDir, opts = {}) {
  const t = {};
  const clock = async (name, f) => { const s = performance.now(); const r = await f(); t[name] = (performance.now() - s) / 1000; return r; };
  const meta = join(work, 'meta');
  mkdirSync(meta, { recursive: true });
  for (const f of META_FILES) {
    if (!existsSync(join(metaDir, f))) throw new Error(`${metaDir}/${f} is missing (pass --meta with the THINGS behavioural files)`);
    copyFileSync(join(metaDir, f), join(meta, f));
  }
  const names = thingsNames(join(meta, 'spose_embedding66d_rescaled.csv'));
  const images = join(work, 'images'), clip = join(work, 'clip');
  if (!existsSync(join(images, names.at(-1)))) await clock('images', () => writeImages(images, names, opts));
  let checkpoint = { reused: true };
  if (!existsSync(join(clip, 'model.safetensors'))) checkpoint = await clock('checkpoint', () => writeHfCheckpoint(clip, opts.config));
  const vocab = await clock('vocabulary', () => writeVocabulary(clip, join(meta, 'spose_dimensions66.txt')));
  return { images, meta, clip, count: names.length, checkpoint, vocab, seconds: t };
}
