import { join } from 'node:path';
import { UserError } from '@lw/core';
import { rsa } from '@lw/eval';
import { tf, type ClipHba } from '@lw/models';
import { listCheckpoints, readCheckpoint, writeCheckpoint } from '../checkpoint.js';
import type { TrainData, SplitArrays } from '../dataset.js';
import { earlyStoppingUpdate, RESUMED_BEST_LOSS, type EarlyStoppingState } from '../early-stopping.js';
import { writeEmbeddings } from '../embeddings.js';
import type { FeatureCache } from '../feature-cache.js';
import type { MetricsRow } from '../metrics.js';
import { AdamW } from '../optim/adamw.js';
import { DeviceAdamW } from '../optim/adamw-device.js';
import { epochFlags, inWindow, perturbBatch, perturbsImages, targetStats } from '../perturb.js';
import { perturbedImages } from '../perturb-device.js';
import { TrainableParams } from '../trainable.js';
import { createEpochMeasures } from './epoch-measures.js';
import type { BehaviorParams } from './params.js';
import type { EpochMeasuresRow, LayerRsaRow } from '@lw/core';

/**
 * The CLIP-HBA training loop (method §3.2, §3.4), top to bottom: where to start, then per epoch
 * train (perturbed inside the window), validate, RSA, checkpoint, early stopping.
 * Everything it writes goes to `scratch` (checkpoints/, embeddings/), so a killed run resumes from
 * its last checkpoint; the stage publishes the files when the loop returns.
 */
export interface BehaviorEnv {
  params: BehaviorParams;
  data: TrainData;
  hba: ClipHba;
  /** Frozen-prefix features of every image, when given and enabled. */
  cache?: FeatureCache;
  /** The checkpoint to start from (`baseline@epoch(E-1)`): its checkpoints dir and epoch. */
  resume?: { dir: string; epoch: number };
  scratch: string;
  log(message: string): void;
  progress(done: number, total: number, note?: string): void;
  signal: AbortSignal;
}

export interface BehaviorResult {
  rows: MetricsRow[];
  /** Epochs with a checkpoint in scratch/checkpoints (including 0 for a fresh start). */
  checkpointEpochs: number[];
  trainableCount: number;
  stoppedEarly: boolean;
  epochSeconds: number[];
  /** Layer-wise RSA rows (params.layers) and Fisher rows (params.fisher); null when off. */
  layerRows: LayerRsaRow[] | null;
  fisherRows: EpochMeasuresRow[] | null;
}

type Start = { epoch: number; rows: MetricsRow[]; stopping: EarlyStoppingState; done: boolean };

export async function trainBehavior(env: BehaviorEnv): Promise<BehaviorResult> {
  const { params: p, data, hba, cache } = env;
  const setupStart = performance.now();
  const ckDir = join(env.scratch, 'checkpoints');
  const weights = await TrainableParams.from(hba.trainable);
  const opt = new AdamW({ lr: p.lr, weightDecay: p.weightDecay });
  env.log(`trainable parameters: ${weights.count()}`);

  const train = data.loadSplit('train');
  const val = data.loadSplit('val');
  const test = data.loadSplit('test');
  if (!train.targets || !val.targets) throw new UserError(`${data.dir}: the train and val splits need 66-d targets`, 'use a THINGS-like data set (data/toy or data/things)');
  if (!data.humanRdm) throw new UserError(`${data.dir}: no human_rdm.arrow`, 'behavioural RSA needs the human RDM of the test images');
  // Method §2.2: the scalar mean and std over every entry of the study's "training" CSV, i.e. the
  // 1806 non-test items (train and validation splits together): 5.6906 / 10.1787 for THINGS.
  const pool = new Float32Array(train.targets.length + val.targets.length);
  pool.set(train.targets);
  pool.set(val.targets, train.targets.length);
  const stats = targetStats(pool);
  env.log(`target statistics (train + val): mean ${stats.mean.toFixed(4)}, std ${stats.std.toFixed(4)} over ${pool.length} values`);
  const textPrefix = tf.keep(cache ? tf.tensor3d(cache.text, cache.manifest.textShape) : hba.textPrefix());
  const measures = await createEpochMeasures({
    params: p, hba, cache, imageShape: data.imageShape, train, test, humanRdm: data.humanRdm, scratch: env.scratch, log: env.log,
  });

  const [H, W] = data.imageShape;
  // [n, T, W] inputs of the first DoRA vision block for n images: gathered from the cache (images null),
  // or computed by the frozen blocks, one tidy each (visionPrefix), so that a full-forward evaluation holds
  // one block's activations at a time, not all of them: ViT-L/14 at batch 64 would otherwise need ~1 GB per block.
  const visionPrefixOf = (ids: string[], images: Float32Array | null): tf.Tensor3D => images === null
    ? cache!.prefixes(ids)
    : hba.visionPrefix(tf.tensor4d(images, [ids.length, H, W, 3]));
  // [count, 66] predictions of a whole (clean) split, in batches. The prompts' text features [P, embed] do
  // not depend on the images, so they are computed once per split instead of once per batch: the same
  // ops on the same inputs (hence the same values) as predictFromPrefix, at a tenth of the text-tower work.
  const predictSplit = async (split: SplitArrays): Promise<Float32Array> => {
    const text = tf.tidy(() => hba.textFeatures(tf.clone(textPrefix)));
    const out = new Float32Array(split.count * text.shape[0]);
    for (let s = 0; s < split.count; s += p.batchSize) {
      const ids = split.ids.slice(s, s + p.batchSize);
      const n = ids.length;
      const pred = tf.tidy(() => {
        const prefix = visionPrefixOf(ids, cache ? null : split.images.subarray(s * H * W * 3, (s + n) * H * W * 3));
        return hba.predictWithText(prefix, text);
      });
      out.set((await pred.data()) as Float32Array, s * text.shape[0]);
      pred.dispose();
    }
    text.dispose();
    return out;
  };

  const validate = async (): Promise<number> => mseOf(await predictSplit(val), val.targets!);

  // Where to start: our own last checkpoint (a rerun after a crash), the resume input, or fresh.
  const start = await (async (): Promise<Start> => {
    const own = listCheckpoints(ckDir);
    if (own.length) {
      const ck = readCheckpoint(ckDir, own[own.length - 1]);
      weights.load(ck.params, `${ckDir}/epoch${ck.info.epoch}.safetensors`);
      opt.loadStateDict({ tensors: ck.optimizerState, step: ck.info.optimizer.step });
      env.log(`resuming in place after epoch ${ck.info.epoch}`);
      measures?.resumeAt(ck.info.epoch);
      const stopping = ck.info.earlyStopping ?? { best: RESUMED_BEST_LOSS, counter: 0 };
      return { epoch: ck.info.epoch, rows: ck.info.rows, stopping, done: ck.info.stopped || ck.info.epoch >= p.epochs };
    }
    if (env.resume && env.resume.epoch > 0) {
      const ck = readCheckpoint(env.resume.dir, env.resume.epoch);
      weights.load(ck.params, `${env.resume.dir}/epoch${env.resume.epoch}.safetensors`);
      opt.loadStateDict({ tensors: ck.optimizerState, step: ck.info.optimizer.step });
      env.log(`resuming from ${env.resume.dir} epoch ${env.resume.epoch}; best test loss reset to ${RESUMED_BEST_LOSS}`);
      return { epoch: env.resume.epoch, rows: [], stopping: { best: RESUMED_BEST_LOSS, counter: 0 }, done: env.resume.epoch >= p.epochs };
    }
    // Fresh: the baseline compares with the initial model's validation loss; perturbation runs
    // (and resumes) start from the study's sentinel (method §3.2 step 1, §3.4 step 6).
    const fresh = !p.perturb && !env.resume;
    const best = fresh ? await validate() : RESUMED_BEST_LOSS;
    if (fresh) env.log(`initial test loss ${best}`);
    writeCheckpoint(ckDir, {
      info: { epoch: 0, optimizer: { kind: 'adamw', step: 0 }, rows: [], earlyStopping: { best, counter: 0 }, stopped: false },
      params: weights.values, shapes: weights.shapes, optimizerState: new Map(),
    });
    return { epoch: 0, rows: [], stopping: { best, counter: 0 }, done: false };
  })();

  // webgpu: AdamW on the device and each batch's loss read while the next batch is recorded, so the
  // device never waits for the host between steps (bench/model-step: 0.045 -> 0.032 s a step on an H200).
  // Elsewhere the host optimiser, whose arrays are the weights and state the checkpoints hold.
  const device = tf.getBackend() === 'webgpu' ? new DeviceAdamW(opt, weights.variables) : null;
  device?.upload();
  env.log(`loop setup: ${((performance.now() - setupStart) / 1000).toFixed(3)}s`);
  const rows = [...start.rows];
  let stopping = start.stopping;
  let stopped = start.done;
  const epochSeconds: number[] = [];
  // The moments on the device are freed however the loop ends (a worker process runs task after task).
  try {
    for (let epoch = start.epoch + 1; epoch <= p.epochs && !stopped; epoch++) {
      const t0 = performance.now();
      const perturbed = inWindow(p.perturb, epoch);
      let lossSum = 0, seen = 0;
      // A batch's loss, counted once read (on webgpu one batch late: the read of the one in flight).
      const count = ({ loss, B, index }: { loss: number; B: number; index: number }) => {
        if (!Number.isFinite(loss)) {
          throw new UserError(`non-finite training loss ${loss} at epoch ${epoch}, batch ${index}`,
            `checkpoints up to epoch ${epoch - 1} are kept in ${ckDir}; lower the learning rate or check the inputs`);
        }
        lossSum += loss * B;
        seen += B;
      };
      let inFlight: Promise<{ loss: number; B: number; index: number }> | null = null;
      for await (const batch of data.batches('train', { batchSize: p.batchSize, seed: p.seed, epoch, shuffle: true })) {
        const B = batch.ids.length;
        const clean = { images: batch.images, targets: batch.targets!, batchSize: B };
        // Image perturbations make their images on the device (perturb-device.ts: the same values as
        // perturbBatch's, without host draws and uploads); target perturbations go through perturbBatch.
        const deviceImages = perturbed && perturbsImages(p.perturb!.type);
        const b = perturbed && !deviceImages ? perturbBatch(clean, p.perturb!, batch.index, stats) : clean;
        // The cache holds the clean images' prefixes: usable unless the perturbation replaced the images.
        const cached = cache !== undefined && !deviceImages && b.images === batch.images;
        // Without a cached prefix (image perturbations, or no cache) the frozen blocks run here,
        // outside the gradient tape: nothing trainable is in them, and recording them would keep every
        // block's activations alive for the backward pass ([B, 257, 4096] per block at ViT-L/14).
        const prefix = cached ? undefined : tf.tidy(() => hba.visionPrefix(deviceImages
          ? perturbedImages(p.perturb!, batch.index, stats, [B, H, W, 3])
          : tf.tensor4d(b.images, [B, H, W, 3])));
        const lossFn = () => {
          // A clone per call: the model may dispose tensors it saved for the backward pass.
          const pred = hba.predictFromPrefix(prefix ? tf.clone(prefix) : visionPrefixOf(batch.ids, null), tf.clone(textPrefix));
          return tf.mean(tf.squaredDifference(pred, tf.tensor2d(b.targets, [B, b.targets.length / B]))) as tf.Scalar;
        };
        if (device) {
          const { value, grads } = weights.gradTensors(lossFn);
          device.step(grads);
          for (const g of grads.values()) g?.dispose();
          prefix?.dispose();
          const index = batch.index;
          const read = value.data().then((d) => { value.dispose(); return { loss: d[0], B, index }; });
          if (inFlight) count(await inFlight);
          inFlight = read;
          continue;
        }
        const { loss, grads } = await weights.lossAndGrads(lossFn);
        prefix?.dispose();
        count({ loss, B, index: batch.index });
        opt.step(weights.values, grads);
        weights.push();
      }
      if (inFlight) count(await inFlight);
      inFlight = null;
      await device?.download(weights.values);
      const trainLoss = lossSum / seen;
      const testLoss = await validate();
      const preds = await predictSplit(test); // [48, 66], RDM order
      const r = rsa(preds, test.count, preds.length / test.count, data.humanRdm);
      const row: MetricsRow = {
        epoch, train_loss: trainLoss, test_loss: testLoss, behavioral_rsa_rho: r.rho, behavioral_rsa_p_value: r.p,
        ...epochFlags(p.perturb, epoch),
      };
      rows.push(row);
      await measures?.afterEpoch(epoch, r, textPrefix);
      writeEmbeddings(join(env.scratch, 'embeddings', `epoch${epoch}.arrow`), test.ids, preds, preds.length / test.count);
      const es = earlyStoppingUpdate(stopping, testLoss, p.patience, perturbed);
      stopping = es.state;
      stopped = es.stop;
      writeCheckpoint(ckDir, {
        info: { epoch, optimizer: { kind: 'adamw', step: opt.stepCount }, metrics: row, rows, earlyStopping: stopping, stopped },
        params: weights.values, shapes: weights.shapes, optimizerState: opt.stateDict().tensors,
      });
      epochSeconds.push((performance.now() - t0) / 1000);
      env.log(`epoch ${epoch}: train ${trainLoss.toFixed(4)} test ${testLoss.toFixed(4)} rsa ${r.rho.toFixed(4)}${perturbed ? ` [${p.perturb!.type}]` : ''} ${epochSeconds.at(-1)!.toFixed(2)}s`);
      env.progress(epoch, p.epochs, `test ${testLoss.toFixed(3)} rsa ${r.rho.toFixed(3)}`);
      if (stopped) env.log(`early stopping after epoch ${epoch} (best test loss ${stopping.best}, patience ${p.patience})`);
      if (env.signal.aborted) throw env.signal.reason ?? new Error('aborted');
    }
  } finally {
    device?.dispose();
  }
  textPrefix.dispose();
  measures?.dispose();
  return {
    rows, checkpointEpochs: listCheckpoints(ckDir), trainableCount: weights.count(), stoppedEarly: stopped, epochSeconds,
    layerRows: measures?.layerRows ?? null, fisherRows: measures?.fisherRows ?? null,
  };
}

/** Mean squared error over all entries, accumulated per batch as the study does (Σ batch mean × B / N = overall mean). */
function mseOf(pred: Float32Array, targets: Float32Array): number {
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += (pred[i] - targets[i]) ** 2;
  return s / pred.length;
}
