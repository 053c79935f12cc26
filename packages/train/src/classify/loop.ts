import { join } from 'node:path';
import { UserError, type EpochMeasuresRow, type LayerRsaRow } from '@lw/core';
import { rsa } from '@lw/eval';
import { tf } from '@lw/models';
import { listCheckpoints, readCheckpoint, writeCheckpoint } from '../checkpoint.js';
import type { SplitArrays, TrainData } from '../dataset.js';
import { writeEmbeddings } from '../embeddings.js';
import { vitLearningRate } from '../lr-schedule.js';
import type { MetricsRow } from '../metrics.js';
import { AdamW } from '../optim/adamw.js';
import { Sgd } from '../optim/sgd.js';
import { TrainableParams } from '../trainable.js';
import { loadState, stateValues, type Classifier } from './classifier.js';
import { createClassifyMeasures } from './epoch-measures.js';
import type { ClassifyParams } from './params.js';
import { perturbedLabelTable, perturbVitBatch } from './perturb.js';

/**
 * The classification loop (method §7): per epoch SGD with momentum at the scheduled rate over augmented,
 * shuffled batches; then validation cross-entropy and top-1, and RSA of the model's features (ViT:
 * final-norm CLS token; ResNet: global-average-pooled last stage) of the test images (single process,
 * RDM order). The train step runs the model in training mode (BatchNorm on batch statistics, moving
 * the running statistics); validation and features in eval mode. Checkpoints (weights, optimiser and
 * BatchNorm state) go to `scratch` after every epoch, so a resumed run continues exactly.
 * With `perturb` (start E), it trains only epoch E = resume + 1, perturbed, and evaluates (method §7.3).
 */
export interface ClassifyEnv {
  params: ClassifyParams;
  data: TrainData;
  /** The RSA images and human RDM (the same set for the toy). */
  rsaData: TrainData;
  model: Classifier;
  resume?: { dir: string; epoch: number };
  scratch: string;
  log(message: string): void;
  progress(done: number, total: number, note?: string): void;
  signal: AbortSignal;
}

export interface ClassifyResult {
  rows: MetricsRow[];
  epochSeconds: number[];
  /** Layer-wise RSA rows (params.layers) and Fisher rows (params.fisher); null when off. */
  layerRows: LayerRsaRow[] | null;
  fisherRows: EpochMeasuresRow[] | null;
}

export async function trainClassify(env: ClassifyEnv): Promise<ClassifyResult> {
  const { params: p, data, model } = env;
  const perturb = p.perturb;
  if (perturb) checkMeasurement(perturb.start, env.resume);
  const ckDir = join(env.scratch, 'checkpoints');
  const weights = await TrainableParams.from(model.variables);
  // The study's SGD with momentum, or AdamW for a small ViT that SGD moves too slowly (both take the scheduled lr per step).
  const opt = p.optimizer === 'adamw' ? new AdamW({ lr: p.lr, weightDecay: p.weightDecay }) : new Sgd({ momentum: p.momentum, weightDecay: p.weightDecay });
  const classes = data.classes?.length ?? model.numClasses;
  const [H, W] = data.imageShape;
  const val = data.loadSplit('val');
  const test = await rsaImages(env.rsaData, data, p.batchSize);
  if (!val.labels) throw new UserError(`${data.dir}: the val split has no labels`, 'classification needs a labelled data set (data/toy, data/imagenet)');
  if (!env.rsaData.humanRdm) throw new UserError(`${env.rsaData.dir}: no human_rdm.arrow for RSA`);
  env.log(`trainable parameters: ${weights.count()}, classes ${classes}`);
  const measures = await createClassifyMeasures({
    layers: p.layers, fisher: p.fisher, layerFeatures: p.layerFeatures, model, data, test, humanRdm: env.rsaData.humanRdm, classes, batchSize: p.batchSize, scratch: env.scratch, crossEntropy,
  });

  // Where to start: own checkpoint (rerun), the resume checkpoint, or the seeded init (epoch 0).
  let start = 0;
  let rows: MetricsRow[] = [];
  const own = listCheckpoints(ckDir);
  const from = own.length ? { dir: ckDir, epoch: own[own.length - 1] } : env.resume && env.resume.epoch > 0 ? env.resume : undefined;
  if (from) {
    const ck = readCheckpoint(from.dir, from.epoch);
    weights.load(ck.params, join(from.dir, `epoch${from.epoch}.safetensors`));
    loadState(model, ck.state, join(from.dir, `epoch${from.epoch}.safetensors`));
    opt.loadStateDict({ tensors: ck.optimizerState, step: ck.info.optimizer.step });
    start = from.epoch;
    if (from.dir === ckDir) {
      rows = ck.info.rows;
      measures?.resumeAt(start);
    }
    env.log(`starting after epoch ${start} from ${from.dir}`);
  } else {
    writeCheckpoint(ckDir, { info: { epoch: 0, optimizer: { kind: p.optimizer, step: 0 }, rows: [], stopped: false }, params: weights.values, shapes: weights.shapes, optimizerState: new Map(), state: await stateValues(model) });
  }
  // A measurement trains exactly epoch E = start = resume + 1; training runs to params.epochs.
  const last = perturb ? perturb.start : p.epochs;
  const labelTable = perturb && (perturb.type === 'label_shuffle' || perturb.type === 'target_noise')
    ? perturbedLabelTable(perturb, data.labels('train') ?? missingLabels(data), classes) : undefined;

  const epochSeconds: number[] = [];
  for (let epoch = start + 1; epoch <= last; epoch++) {
    const t0 = performance.now();
    const lr = vitLearningRate(epoch - 1, p.lr, p.epochs, p.warmupEpochs);
    let lossSum = 0, seen = 0;
    for await (const batch of data.batches('train', { batchSize: p.batchSize, seed: p.seed, epoch, shuffle: true, augment: p.augment })) {
      const B = batch.ids.length;
      const clean = { images: batch.images, labels: batch.labels!, rows: batch.rows };
      const b = perturb ? perturbVitBatch(clean, perturb, epoch, batch.index, labelTable) : clean;
      const { loss, grads } = await weights.lossAndGrads(() => crossEntropy(model.forward(tf.tensor4d(b.images, [B, H, W, 3]), { training: true }).logits, b.labels, classes));
      if (!Number.isFinite(loss)) {
        throw new UserError(`non-finite training loss ${loss} at epoch ${epoch}, batch ${batch.index}`, `checkpoints up to epoch ${epoch - 1} are kept in ${ckDir}; lower params.lr`);
      }
      opt.step(weights.values, grads, lr);
      weights.push();
      lossSum += loss * B;
      seen += B;
    }
    const v = await evaluate(model, val, classes, p.batchSize, [H, W]);
    const features = await featuresOf(model, test, p.batchSize, [H, W]); // [48, featureWidth]
    const d = features.length / test.count;
    const r = rsa(features, test.count, d, env.rsaData.humanRdm);
    const row: MetricsRow = { epoch, train_loss: lossSum / seen, val_loss: v.loss, val_acc: v.acc, rsa_rho: r.rho, rsa_p_value: r.p };
    if (perturb) Object.assign(row, { perturbation: perturb.type, perturb_epoch: epoch });
    rows = [...rows, row];
    await measures?.afterEpoch(epoch, r);
    writeEmbeddings(join(env.scratch, 'embeddings', `epoch${epoch}.arrow`), test.ids, features, d);
    writeCheckpoint(ckDir, { info: { epoch, optimizer: { kind: p.optimizer, step: opt.stepCount }, metrics: row, rows, stopped: false }, params: weights.values, shapes: weights.shapes, optimizerState: opt.stateDict().tensors, state: await stateValues(model) });
    epochSeconds.push((performance.now() - t0) / 1000);
    env.log(`epoch ${epoch}: lr ${lr.toPrecision(4)} train ${row.train_loss} val ${v.loss.toFixed(4)} acc ${v.acc.toFixed(4)} rsa ${r.rho.toFixed(4)} ${epochSeconds.at(-1)!.toFixed(2)}s`);
    env.progress(epoch, last, `acc ${v.acc.toFixed(3)} rsa ${r.rho.toFixed(3)}`);
    if (env.signal.aborted) throw env.signal.reason ?? new Error('aborted');
  }
  return { rows, epochSeconds, layerRows: measures?.layerRows ?? null, fisherRows: measures?.fisherRows ?? null };
}

/**
 * The RSA images as the ViT sees validation images (method §7.2): with the classification set's
 * normalisation, and for ImageNet its val transform (Resize 256, CenterCrop 224); in RDM order.
 */
async function rsaImages(rsaData: TrainData, data: TrainData, batchSize: number): Promise<SplitArrays> {
  if (rsaData === data) return data.loadSplit('test');
  const augment = data.kind === 'imagenet' ? 'imagenet-val' : 'none';
  const ids: string[] = [], parts: Float32Array[] = [];
  for await (const b of rsaData.batches('test', { batchSize, seed: 0, epoch: 0, shuffle: false, augment, normalize: data.normalization })) {
    ids.push(...b.ids);
    parts.push(b.images);
  }
  const images = new Float32Array(parts.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of parts) { images.set(x, o); o += x.length; }
  return { ids, count: ids.length, images };
}

/**
 * A measurement resumes from the checkpoint of epoch E-1 and trains epoch E = params.perturb.start;
 * the two are given separately (the resume input, the params), so they must agree.
 */
export function checkMeasurement(start: number, resume: { epoch: number } | undefined): void {
  if (!resume) throw new UserError(`params.perturb (start ${start}) needs a resume input: the checkpoint of epoch ${start - 1}`, `e.g. resume: "vit@epoch(${start - 1})" measures epoch ${start}`);
  if (start !== resume.epoch + 1) {
    throw new UserError(
      `params.perturb.start is ${start}, but the resume checkpoint is epoch ${resume.epoch}: a measurement trains epoch resume + 1 = ${resume.epoch + 1}`,
      `set start: ${resume.epoch + 1}, or resume from epoch ${start - 1} (e.g. resume: "vit@epoch(\${start} - 1)")`,
    );
  }
}

function missingLabels(data: TrainData): never {
  throw new UserError(`${data.dir}: the train split has no labels`);
}

/** Mean cross-entropy of logits [B, C] against integer labels (one-hot built on the host). */
export function crossEntropy(logits: tf.Tensor2D, labels: Int32Array, classes: number): tf.Scalar {
  const B = labels.length;
  const onehot = new Float32Array(B * classes);
  labels.forEach((c, i) => { onehot[i * classes + c] = 1; });
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.tensor2d(onehot, [B, classes]), tf.logSoftmax(logits, 1)), 1))) as tf.Scalar;
}

/** Validation: mean cross-entropy over all images (Σ batch mean × B / N) and top-1 accuracy. */
async function evaluate(model: Classifier, split: SplitArrays, classes: number, batchSize: number, [H, W]: number[]) {
  let loss = 0, correct = 0;
  for (let s = 0; s < split.count; s += batchSize) {
    const n = Math.min(batchSize, split.count - s);
    const labels = split.labels!.subarray(s, s + n);
    const [l, pred] = tf.tidy(() => {
      const logits = model.forward(tf.tensor4d(split.images.subarray(s * H * W * 3, (s + n) * H * W * 3), [n, H, W, 3])).logits;
      return [crossEntropy(logits, labels, classes), tf.argMax(logits, 1)];
    });
    loss += (await l.data())[0] * n;
    const p = await pred.data();
    for (let i = 0; i < n; i++) if (p[i] === labels[i]) correct++;
    l.dispose();
    pred.dispose();
  }
  return { loss: loss / split.count, acc: correct / split.count };
}

/** Eval-mode features [count, featureWidth] of a split, in its stored (RDM) order. */
async function featuresOf(model: Classifier, split: SplitArrays, batchSize: number, [H, W]: number[]): Promise<Float32Array> {
  const width = model.featureWidth;
  const out = new Float32Array(split.count * width);
  for (let s = 0; s < split.count; s += batchSize) {
    const n = Math.min(batchSize, split.count - s);
    const f = tf.tidy(() => model.forward(tf.tensor4d(split.images.subarray(s * H * W * 3, (s + n) * H * W * 3), [n, H, W, 3])).features);
    out.set((await f.data()) as Float32Array, s * width);
    f.dispose();
  }
  return out;
}
