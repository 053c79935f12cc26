import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@lw/core';
import { tf } from '@lw/models';
import { z } from 'zod';
import { decodeHalf } from './half.js';
import { readTensorFile } from './tensor-file.js';

/**
 * The frozen-prefix feature cache written by `train/features` (design "Frozen-prefix feature
 * cache", method §12): for every image of every split, the input of the first DoRA vision block
 * ([T, W] per image), and for the prompts the input of the first DoRA text block ([P, ctx, Wt]).
 * Files: `features.json` (this schema), `vision-<split>-<k>.safetensors` (tensor `prefix`
 * [rows, T, W]), `text_prefix.safetensors` (tensor `prefix` [P, ctx, Wt]); F32 or F16.
 */
export const FEATURES_FILE = 'features.json';

export const featuresManifest = z.object({
  format: z.literal('lw-features/1'),
  dtype: z.enum(['float32', 'float16']),
  model: z.string().describe('model config name'),
  visionStart: z.number().int().min(0),
  textStart: z.number().int().min(0),
  /** [T, W] per image */
  visionShape: z.tuple([z.number().int(), z.number().int()]),
  /** [P, ctx, Wt] */
  textShape: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
  splits: z.record(z.string(), z.object({ shards: z.array(z.object({ file: z.string(), ids: z.array(z.string()) })) })),
  text: z.string(),
  /** float16 only: the largest |f16 - f32| and the largest relative error over every stored value. */
  error: z.object({ maxAbs: z.number(), maxRel: z.number(), maxAbsValue: z.number() }).optional(),
});
export type FeaturesManifest = z.output<typeof featuresManifest>;

export class FeatureCache {
  private readonly rows = new Map<string, { shard: number; row: number }>();
  /** Each shard's values [images, T, W], and (webgpu) the same uploaded once. */
  private readonly shards: Float32Array[] = [];
  private readonly onDevice: (tf.Tensor3D | undefined)[] = [];
  readonly rowSize: number;

  private constructor(readonly dir: string, readonly manifest: FeaturesManifest, readonly text: Float32Array) {
    this.rowSize = manifest.visionShape[0] * manifest.visionShape[1];
  }

  static open(dir: string): FeatureCache {
    const file = join(dir, FEATURES_FILE);
    if (!existsSync(file)) throw new UserError(`${file} is missing`, 'the features input must be a train/features task');
    const parsed = featuresManifest.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) throw new UserError(`${file}: field "${parsed.error.issues[0].path.join('.')}": ${parsed.error.issues[0].message}`);
    const m = parsed.data;
    const cache = new FeatureCache(dir, m, readPrefix(join(dir, m.text)));
    for (const split of Object.values(m.splits)) {
      for (const shard of split.shards) {
        const data = readPrefix(join(dir, shard.file));
        if (data.length !== shard.ids.length * cache.rowSize) throw new UserError(`${join(dir, shard.file)}: ${data.length} values for ${shard.ids.length} images of [${m.visionShape}]`);
        const index = cache.shards.push(data) - 1;
        shard.ids.forEach((id, row) => cache.rows.set(id, { shard: index, row }));
      }
    }
    return cache;
  }

  has(id: string): boolean {
    return this.rows.has(id);
  }

  private lookup(id: string): { shard: number; row: number } {
    const r = this.rows.get(id);
    if (!r) throw new UserError(`feature cache ${this.dir} has no image "${id}"`, 'rebuild the features task from the same data set');
    return r;
  }

  /** The vision prefixes of `ids`, stacked: [B, T, W]. */
  gather(ids: string[]): Float32Array {
    const out = new Float32Array(ids.length * this.rowSize);
    ids.forEach((id, i) => {
      const r = this.lookup(id);
      out.set(this.shards[r.shard].subarray(r.row * this.rowSize, (r.row + 1) * this.rowSize), i * this.rowSize);
    });
    return out;
  }

  /**
   * The vision prefixes of `ids` as a tensor [B, T, W]. On webgpu every shard is uploaded once, on
   * first use, and rows are gathered on the device: copying and uploading 64 x 257 x 1024 floats per
   * batch on the host was most of a cached ViT-L/14 epoch (profiled on an H200). The whole cache then
   * lives in GPU memory (~2 GB for THINGS at ViT-L/14) until `dispose`; LW_FEATURES_ON_DEVICE=0 keeps
   * it on the host (a GPU short of memory). Other backends gather on the host.
   */
  prefixes(ids: string[], onDevice = tf.getBackend() === 'webgpu' && process.env.LW_FEATURES_ON_DEVICE !== '0'): tf.Tensor3D {
    const shape = this.manifest.visionShape;
    if (!onDevice) return tf.tensor3d(this.gather(ids), [ids.length, ...shape]);
    // One device tensor of every row when it fits one buffer: one gather per batch, whose output is
    // always [B, T, W]. Per-shard gathers of a shuffled batch have sizes that vary from batch to batch, and
    // tfjs-webgpu keeps a freed buffer of every size it has seen: GPU memory grew epoch after epoch
    // (memory-probe.ts); at ViT-L/14 each part is rows x 1 MB.
    const all = this.deviceAll();
    if (all) return tf.tidy(() => tf.gather(all.tensor, tf.tensor1d(ids.map((id) => all.base[this.lookup(id).shard] + this.lookup(id).row), 'int32')));
    const byShard = new Map<number, { rows: number[]; positions: number[] }>();
    ids.forEach((id, i) => {
      const r = this.lookup(id);
      const e = byShard.get(r.shard) ?? { rows: [], positions: [] };
      e.rows.push(r.row);
      e.positions.push(i);
      byShard.set(r.shard, e);
    });
    return tf.tidy(() => {
      const parts: tf.Tensor3D[] = [];
      const positions: number[] = [];
      for (const [shard, e] of byShard) {
        parts.push(tf.gather(this.deviceShard(shard), tf.tensor1d(e.rows, 'int32')));
        positions.push(...e.positions);
      }
      const stacked = parts.length === 1 ? parts[0] : tf.concat(parts, 0); // row j is batch position positions[j]
      if (positions.every((p, j) => p === j)) return stacked;
      const source = new Int32Array(ids.length);
      positions.forEach((p, j) => { source[p] = j; });
      return tf.gather(stacked, tf.tensor1d(source, 'int32'));
    });
  }

  private deviceShard(shard: number): tf.Tensor3D {
    let t = this.onDevice[shard];
    if (!t) {
      const [T, W] = this.manifest.visionShape;
      t = tf.keep(tf.tensor3d(this.shards[shard], [this.shards[shard].length / this.rowSize, T, W]));
      this.onDevice[shard] = t;
    }
    return t;
  }

  /**
   * Every shard's rows as one device tensor [N, T, W] and each shard's first row in it, made once (from
   * per-shard uploads, concatenated); undefined when N x T x W floats exceed the device's largest buffer
   * binding (then the per-shard path runs).
   */
  private deviceAll(): { tensor: tf.Tensor3D; base: number[] } | undefined {
    if (this.all !== undefined) return this.all || undefined;
    const bytes = this.shards.reduce((a, s) => a + s.byteLength, 0);
    const limits = (tf.backend() as unknown as { device?: { limits?: { maxStorageBufferBindingSize?: number; maxBufferSize?: number } } }).device?.limits;
    const limit = Math.min(limits?.maxStorageBufferBindingSize ?? 0, limits?.maxBufferSize ?? 0);
    if (bytes === 0 || bytes > limit) {
      this.all = false;
      return undefined;
    }
    const base: number[] = [];
    let rows = 0;
    for (const s of this.shards) { base.push(rows); rows += s.length / this.rowSize; }
    const parts = this.shards.map((_, i) => this.deviceShard(i));
    const tensor = tf.keep(parts.length === 1 ? parts[0] : tf.concat(parts, 0)) as tf.Tensor3D;
    if (parts.length > 1) for (const t of parts) t.dispose();
    this.onDevice.length = 0;
    this.all = { tensor, base };
    return this.all;
  }

  private all: { tensor: tf.Tensor3D; base: number[] } | false | undefined;

  /** Frees the uploaded rows (the host copies stay readable). */
  dispose(): void {
    for (const t of this.onDevice) t?.dispose();
    this.onDevice.length = 0;
    if (this.all) this.all.tensor.dispose();
    this.all = undefined;
  }
}

function readPrefix(path: string): Float32Array {
  const t = readTensorFile(path).tensors.get('prefix');
  if (!t) throw new UserError(`${path}: no tensor "prefix"`);
  return t.dtype === 'F16' ? decodeHalf(t.data as Uint16Array) : (t.data as Float32Array);
}
