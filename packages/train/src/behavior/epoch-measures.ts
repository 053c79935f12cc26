import { join } from 'node:path';
import { UserError, type EpochMeasuresRow, type LayerRsaRow } from '@lw/core';
import type { HumanRdm, RsaResult } from '@lw/eval';
import { tf, type ClipHba, type VisionTransformer } from '@lw/models';
import type { SplitArrays } from '../dataset.js';
import { readEpochTable } from '../epoch-tables.js';
import type { FeatureCache } from '../feature-cache.js';
import { empiricalFisherTrace, epochMeasuresFormat, writeEpochMeasures } from '../fisher.js';
import { blockLayerName, layerRsaFormat, layerRsaRows, outputLayerName, scoreLayers, selectBlocks, writeLayerFeatures, writeLayerRsa, type LayerFeatureSet, type LayerScore } from '../layer-rsa.js';
import type { BehaviorParams } from './params.js';

/**
 * The optional per-epoch measures of train/behavior, beside metrics (which keep the study's layout):
 * - layer-wise RSA (params.layers): the CLS token after each chosen vision block, for the RSA (test)
 *   images, against the human RDM; then the 66-d predictions as layer `output` (the very RSA result
 *   of metrics' behavioral_rsa_rho). CLS rather than the mean of tokens: it is the token the head
 *   reads (ln_post(CLS) @ proj), and the ViT arm's RSA uses it too, so the layers end in the features
 *   that are trained. Blocks before the first DoRA block are frozen, so their features (and RSA) do
 *   not change over epochs: they are computed once, at setup, and repeated every epoch.
 * - the empirical Fisher trace (params.fisher): the probe is the first N training items in stored
 *   order, always clean (no perturbation), with their own targets, so epochs are comparable;
 *   per-sample loss = mean over the 66 outputs of the squared error (the training loss of one item).
 * Rows so far are written to scratch/measures each epoch, so a run resumed in place keeps them.
 */
export interface MeasuresSetup {
  params: BehaviorParams;
  hba: ClipHba;
  cache?: FeatureCache;
  imageShape: [number, number, number];
  train: SplitArrays;
  test: SplitArrays;
  humanRdm: HumanRdm;
  scratch: string;
  log(message: string): void;
}

export interface EpochMeasures {
  /** After epoch `epoch`'s training, with metrics' RSA result of the predictions. */
  afterEpoch(epoch: number, output: RsaResult, textPrefix: tf.Tensor3D): Promise<void>;
  /** Keeps only the rows of epochs <= `epoch` read back from scratch (resuming in place after `epoch`). */
  resumeAt(epoch: number): void;
  layerRows: LayerRsaRow[] | null;
  fisherRows: EpochMeasuresRow[] | null;
  dispose(): void;
}

/**
 * CLS token [n, W] after each of `blocks` (ascending, all >= from) from the input of block `from`
 * x [n, T, W] (not disposed). The last block of the tower runs at the CLS query only
 * (residualBlockAt). Each block runs in its own tidy, so only one block's intermediates are alive at
 * a time (ViT-L/14 at batch 64 holds ~0.3 GB of attention scores per block).
 */
function clsAfterBlocks(vit: VisionTransformer, from: number, x0: tf.Tensor3D, blocks: number[]): tf.Tensor2D[] {
  const out: tf.Tensor2D[] = [];
  const last = vit.config.layers - 1;
  const [n, , W] = x0.shape;
  let x = x0;
  for (let k = from; k <= Math.max(...blocks); k++) {
    const input = x;
    if (k === last) { out.push(tf.tidy(() => vit.blockCls(k, input))); break; }
    x = tf.tidy(() => vit.block(k, input));
    if (input !== x0) input.dispose();
    if (blocks.includes(k)) out.push(tf.tidy(() => tf.reshape(tf.slice(x, [0, 0, 0], [n, 1, W]), [n, W])));
  }
  if (x !== x0) x.dispose();
  return out;
}

/** Host copies [n, W] of the CLS features after `blocks`, in batches of `batch` inputs ([b, T, W] each from `inputOf`). */
async function blockFeatures(
  vit: VisionTransformer, from: number, blocks: number[], n: number, batch: number, inputOf: (s: number, e: number) => tf.Tensor3D,
): Promise<Float32Array[]> {
  const W = vit.config.width;
  const feats = blocks.map(() => new Float32Array(n * W));
  for (let s = 0; s < n; s += batch) {
    const e = Math.min(n, s + batch);
    const input = tf.tidy(() => inputOf(s, e));
    const cls = clsAfterBlocks(vit, from, input, blocks);
    input.dispose();
    const data = await Promise.all(cls.map((t) => t.data()));
    data.forEach((d, i) => feats[i]!.set(d as Float32Array, s * W));
    tf.dispose(cls);
  }
  return feats;
}

export async function createEpochMeasures(s: MeasuresSetup): Promise<EpochMeasures | null> {
  const { params: p, hba, cache, test, train } = s;
  const fisher = p.fisher;
  if (p.layers === 'none' && fisher === false) return null;
  const vit = hba.clip.visual;
  const [H, W] = s.imageShape;
  const start = hba.visionStart;
  const measuresDir = join(s.scratch, 'measures');

  // [n, T, W] input of the first DoRA block, frozen: kept for every epoch.
  const prefixOf = (split: SplitArrays, n: number) => cache
    ? cache.prefixes(split.ids.slice(0, n))
    : hba.visionPrefix(tf.tensor4d(split.images.subarray(0, n * H * W * 3), [n, H, W, 3]));
  const disposables: tf.Tensor[] = [];

  let layers: { live: number[]; frozenSets: LayerFeatureSet[]; frozenScores: LayerScore[]; testPrefix: tf.Tensor3D } | null = null;
  if (p.layers !== 'none') {
    const blocks = selectBlocks(p.layers, vit.config.layers, 'train/behavior params.layers');
    const frozen = blocks.filter((k) => k < start);
    const live = blocks.filter((k) => k >= start);
    const t0 = performance.now();
    const frozenFeats = frozen.length
      ? await blockFeatures(vit, 0, frozen, test.count, p.batchSize, (a, b) => vit.embed(tf.tensor4d(test.images.subarray(a * H * W * 3, b * H * W * 3), [b - a, H, W, 3])))
      : [];
    const frozenSets = frozen.map((k, i) => ({ layer: k, name: blockLayerName(k), features: frozenFeats[i]!, n: test.count, d: vit.config.width }));
    const frozenScores = scoreLayers(frozenSets, s.humanRdm);
    const testPrefix = tf.keep(tf.tidy(() => prefixOf(test, test.count)));
    disposables.push(testPrefix);
    layers = { live, frozenSets, frozenScores, testPrefix };
    s.log(`layer RSA: blocks ${blocks.join(', ') || 'none'} (CLS token) + output; frozen blocks ${frozen.join(', ') || 'none'} computed once (${((performance.now() - t0) / 1000).toFixed(3)}s)`);
  }

  let probe: { n: number; prefix: tf.Tensor3D; targets: Float32Array; dim: number } | null = null;
  if (fisher !== false) {
    if (fisher.probe > train.count) {
      throw new UserError(`train/behavior params.fisher.probe = ${fisher.probe}: the training split has ${train.count} items`, `use a probe of at most ${train.count} items`);
    }
    const dim = train.targets!.length / train.count;
    const prefix = tf.keep(tf.tidy(() => prefixOf(train, fisher.probe)));
    disposables.push(prefix);
    probe = { n: fisher.probe, prefix, targets: train.targets!.subarray(0, fisher.probe * dim), dim };
  }

  const m: EpochMeasures = {
    layerRows: layers ? [] : null,
    fisherRows: probe ? [] : null,
    resumeAt(epoch) {
      if (m.layerRows) m.layerRows = readEpochTable(measuresDir, layerRsaFormat).filter((r) => r.epoch <= epoch);
      if (m.fisherRows) m.fisherRows = readEpochTable(measuresDir, epochMeasuresFormat).filter((r) => r.epoch <= epoch);
    },
    async afterEpoch(epoch, output, textPrefix) {
      // Seconds of each measure, logged per epoch (what it costs beside training).
      const t0 = performance.now();
      if (layers) {
        const { live, frozenSets, frozenScores, testPrefix } = layers;
        const liveFeats = live.length
          ? await blockFeatures(vit, start, live, test.count, p.batchSize, (a, b) => tf.slice(testPrefix, [a, 0, 0], [b - a, -1, -1]))
          : [];
        const liveSets = live.map((k, i) => ({ layer: k, name: blockLayerName(k), features: liveFeats[i]!, n: test.count, d: vit.config.width }));
        const liveScores = scoreLayers(liveSets, s.humanRdm);
        // Into scratch, published with the rest of the task's outputs.
        if (p.layerFeatures) writeLayerFeatures(s.scratch, epoch, test.ids, [...frozenSets, ...liveSets]);
        const scores = [...frozenScores, ...liveScores, { layer: vit.config.layers, name: outputLayerName, result: output }];
        m.layerRows!.push(...layerRsaRows(epoch, scores));
        writeLayerRsa(measuresDir, m.layerRows!);
      }
      const t1 = performance.now();
      if (probe) {
        const { n, prefix, targets, dim } = probe;
        const f = await empiricalFisherTrace([...hba.trainable.values()], n, (i) => {
          // A clone of the text prefix per call, as in training: the model may dispose what it saved for backward.
          const pred = hba.predictFromPrefix(tf.slice(prefix, [i, 0, 0], [1, -1, -1]), tf.clone(textPrefix)); // [1, 66]
          return tf.mean(tf.squaredDifference(pred, tf.tensor2d(targets.subarray(i * dim, (i + 1) * dim), [1, dim]))) as tf.Scalar;
        });
        m.fisherRows!.push({ epoch, fisher_trace: f.trace, fisher_probe: n });
        writeEpochMeasures(measuresDir, m.fisherRows!);
      }
      const sec = (a: number, b: number) => ((b - a) / 1000).toFixed(3);
      s.log(`epoch ${epoch} measures: ${layers ? `layer RSA ${sec(t0, t1)}s` : ''}${layers && probe ? ', ' : ''}${probe ? `Fisher ${sec(t1, performance.now())}s` : ''}`);
    },
    dispose() {
      tf.dispose(disposables);
    },
  };
  return m;
}
