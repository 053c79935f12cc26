import { join } from 'node:path';
import { defineStage, singleInput, UserError } from '@lw/core';
import { BackendName, ClipConfig, createClip, modelConfig, tf, type Clip } from '@lw/models';
import { z } from 'zod';
import type { TrainData } from '../dataset.js';
import { writeMetrics, type MetricsRow } from '../metrics.js';
import { saveClip } from '../model-store.js';
import { openTrainData } from '../open-data.js';
import { backendResources, startBackend } from '../stage-backend.js';
import { AdamW } from '../optim/adamw.js';
import { textTokenizer } from '../tokens.js';
import { TrainableParams } from '../trainable.js';
import { infoNce } from './infonce.js';

/**
 * `train/clip-pretrain`: the embedded default's stand-in for OpenAI's pretraining. A tiny CLIP from
 * a seeded init learns to match toy images with their captions (InfoNCE, learned temperature), so
 * that `train/behavior` fine-tunes a pretrained image-text model as the real study does.
 */
export const pretrainParams = z.object({
  model: z.union([z.string(), ClipConfig]).default('tiny-clip').describe('Model config name, or a whole CLIP config'),
  seed: z.number().int().default(1).describe('Init and shuffle seed'),
  epochs: z.number().int().min(1).default(10).describe('Epochs over the captions (tiny-clip on the default toy: val InfoNCE 4.15 -> 2.66 in 8, chance 3.93)'),
  batchSize: z.number().int().min(2).default(64).describe('Pairs per contrastive batch (chance loss = ln(batch))'),
  lr: z.number().positive().default(1e-3).describe('AdamW learning rate'),
  weightDecay: z.number().min(0).default(0.05).describe('AdamW decoupled weight decay'),
  savedLogitScale: z.number().positive().default(100).describe(
    "logit scale written with the model: OpenAI's checkpoints end at CLIP's clamp of 100, which CLIP-HBA keeps frozen (method §1.1); a short toy pretraining does not get there"),
  backend: BackendName.default('auto'),
});
export type PretrainParams = z.output<typeof pretrainParams>;

export const pretrainColumns = ['epoch', 'train_loss', 'val_loss', 'logit_scale'] as const;

export const pretrainStage = defineStage({
  id: 'train/clip-pretrain',
  description: 'Contrastive (InfoNCE) pretraining of a tiny CLIP on the toy captions (embedded default)',
  packageName: '@lw/train',
  params: pretrainParams,
  inputs: { data: { description: 'A captioned data set (data/toy)', accepts: ['data/toy'], arity: 'one' } },
  // No checkpoints (the model is saved at the end) and no resume input: its work is its epochs.
  work: (p) => p.epochs,
  resources: backendResources,
  async run(ctx) {
    const p = ctx.params;
    const backend = await startBackend(ctx, p.backend);
    const data = openTrainData(singleInput(ctx.inputs, 'data', 'train/clip-pretrain').dir);
    const base = typeof p.model === 'string' ? modelConfig(p.model) : p.model;
    if (base.kind !== 'clip') throw new UserError(`params.model "${base.name}" is a ${base.kind} config`, 'use a CLIP config such as tiny-clip');
    const tokenizer = textTokenizer(data, base);
    const config: ClipConfig = { ...base, text: { ...base.text, vocabSize: tokenizer.vocabSize } };
    const clip = createClip(config, { seed: p.seed, trainable: true });

    const rows = await pretrain(clip, data, tokenizer.encodeBatch, p, {
      log: ctx.log, progress: ctx.progress, signal: ctx.signal,
    });
    saveClip(ctx.outDir, clip, { logitScale: p.savedLogitScale });
    writeMetrics(ctx.outDir, pretrainColumns, rows);
    const first = rows[0], last = rows[rows.length - 1];
    clip.dispose();
    return { epochs: rows.length, firstValLoss: first.val_loss, lastValLoss: last.val_loss, chance: Math.log(p.batchSize), backend: backend.name };
  },
});

interface LoopIo { log(m: string): void; progress(done: number, total: number, note?: string): void; signal: AbortSignal }

/** The contrastive loop: per epoch, shuffled training pairs, then the loss on the validation pairs. */
export async function pretrain(clip: Clip, data: TrainData, encode: (texts: string[]) => Int32Array, p: PretrainParams, io: LoopIo): Promise<MetricsRow[]> {
  const captions = { train: data.captions('train'), val: data.captions('val') };
  if (!captions.train || !captions.val) throw new UserError(`${data.dir}: no captions`, 'contrastive pretraining needs a captioned data set (data/toy)');
  // Every weight trains, the temperature included (CLIP's recipe).
  const variables = new Map<string, tf.Variable>();
  for (const [name, t] of clip.params.tensors) if (t instanceof tf.Variable) variables.set(name, t);
  const weights = await TrainableParams.from(variables);
  const opt = new AdamW({ lr: p.lr, weightDecay: p.weightDecay });
  const [H, W] = data.imageShape;
  const logitScale = () => clip.params.get<tf.Scalar>('logit_scale');
  const lossOf = (images: Float32Array, texts: string[]) =>
    infoNce(clip.encodeImage(tf.tensor4d(images, [texts.length, H, W, 3])), clip.encodeText(encode(texts)), logitScale());

  const rows: MetricsRow[] = [];
  for (let epoch = 1; epoch <= p.epochs; epoch++) {
    let sum = 0, seen = 0;
    for await (const b of data.batches('train', { batchSize: p.batchSize, seed: p.seed, epoch, shuffle: true, dropLast: true })) {
      const texts = Array.from(b.rows, (r) => captions.train![r]);
      const { loss, grads } = await weights.lossAndGrads(() => lossOf(b.images, texts));
      if (!Number.isFinite(loss)) throw new UserError(`non-finite contrastive loss ${loss} at epoch ${epoch}, batch ${b.index}`, 'lower params.lr');
      opt.step(weights.values, grads);
      weights.push();
      sum += loss * texts.length;
      seen += texts.length;
    }
    let vsum = 0, vseen = 0;
    // Validation pairs in batches of the training size (or the whole split, if smaller), so the chance level is comparable.
    for await (const b of data.batches('val', { batchSize: Math.min(p.batchSize, data.counts.val), seed: p.seed, epoch: 0, shuffle: false, dropLast: true })) {
      const texts = Array.from(b.rows, (r) => captions.val![r]);
      const l = tf.tidy(() => lossOf(b.images, texts));
      vsum += (await l.data())[0] * texts.length;
      vseen += texts.length;
      l.dispose();
    }
    const row = { epoch, train_loss: sum / seen, val_loss: vsum / vseen, logit_scale: (await logitScale().data())[0] };
    rows.push(row);
    io.log(`epoch ${epoch}: contrastive train ${row.train_loss.toFixed(4)} val ${row.val_loss.toFixed(4)} (chance ${Math.log(p.batchSize).toFixed(3)})`);
    io.progress(epoch, p.epochs);
    if (io.signal.aborted) throw io.signal.reason ?? new Error('aborted');
  }
  return rows;
}
