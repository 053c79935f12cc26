import { join } from 'node:path';
import { type EpochMeasuresRow, type LayerRsaRow, UserError } from '@lw/core';
import type { HumanRdm, RsaResult } from '@lw/eval';
import { tf } from '@lw/models';
import type { SplitArrays, TrainData } from '../dataset.js';
import { readEpochTable } from '../epoch-tables.js';
import { empiricalFisherTrace, epochMeasuresFormat, writeEpochMeasures } from '../fisher.js';
import { layerRsaFormat, layerRsaRows, outputLayerName, scoreLayers, selectBlocks, writeLayerFeatures, writeLayerRsa } from '../layer-rsa.js';
import type { Classifier } from './classifier.js';

/**
 * The optional per-epoch measures of train/classify (as train/behavior's, behavior/epoch-measures.ts):
 * - layer-wise RSA (params.layers): each layer of `Classifier.layerFeatures` of the RSA images, eval
 *   mode (ViT: the CLS token after each block; ResNet: each stage's global-average pool), then the
 *   features of metrics' rsa_rho as layer `output` (its very RSA result). Every layer trains here, so
 *   all are recomputed each epoch.
 * - the empirical Fisher trace (params.fisher) of the cross-entropy on the first N training items in
 *   stored order, clean, in eval mode: a ResNet in training mode would normalise a one-image batch by
 *   its own statistics and move its running statistics.
 * Rows so far are written to scratch/measures each epoch, so a run resumed in place keeps them.
 */
export interface ClassifyMeasures {
  afterEpoch(epoch: number, output: RsaResult): Promise<void>;
  /** Keeps only the rows of epochs <= `epoch` read back from scratch (resuming in place after `epoch`). */
  resumeAt(epoch: number): void;
  layerRows: LayerRsaRow[] | null;
  fisherRows: EpochMeasuresRow[] | null;
}

export interface ClassifyMeasuresSetup {
  layers: 'none' | 'all' | number[];
  fisher: false | { probe: number };
  /** Save the chosen layers' features every epoch (layer_features/), for CKA between layers. */
  layerFeatures?: boolean;
  model: Classifier;
  data: TrainData;
  /** The RSA images [count, H, W, 3], RDM order. */
  test: SplitArrays;
  humanRdm: HumanRdm;
  classes: number;
  batchSize: number;
  scratch: string;
  crossEntropy(logits: tf.Tensor2D, labels: Int32Array, classes: number): tf.Scalar;
}

/** The first `n` training items in stored order (no shuffle, the split's evaluation transform). */
async function firstTrainItems(data: TrainData, n: number): Promise<{ images: Float32Array; labels: Int32Array }> {
  const augment = data.kind === 'imagenet' ? 'imagenet-val' : 'none';
  for await (const b of data.batches('train', { batchSize: n, seed: 0, epoch: 0, shuffle: false, augment })) {
    if (!b.labels) throw new UserError(`${data.dir}: the train split has no labels`, 'the Fisher probe needs labelled training items');
    if (b.ids.length < n) break;
    return { images: b.images, labels: b.labels };
  }
  throw new UserError(`train/classify params.fisher.probe = ${n}: the training split of ${data.dir} has fewer items`, `use a smaller probe (at most ${data.counts.train})`);
}

export async function createClassifyMeasures(s: ClassifyMeasuresSetup): Promise<ClassifyMeasures | null> {
  if (s.layers === 'none' && s.fisher === false) return null;
  const [H, W] = s.data.imageShape;
  const { model, test } = s;
  // Layer names and count from one image (the list's last entry is `features`, scored as `output`).
  const names = tf.tidy(() => {
    const l = model.layerFeatures(tf.zeros([1, H, W, 3]) as tf.Tensor4D);
    return l.map((x) => x.name);
  });
  const inner = names.length - 1;
  const chosen = s.layers === 'none' ? null : selectBlocks(s.layers, inner, 'train/classify params.layers');
  const probe = s.fisher === false ? null : { n: s.fisher.probe, ...(await firstTrainItems(s.data, s.fisher.probe)) };

  const measuresDir = join(s.scratch, 'measures');
  const m: ClassifyMeasures = {
    layerRows: chosen ? [] : null,
    fisherRows: probe ? [] : null,
    resumeAt(epoch) {
      if (m.layerRows) m.layerRows = readEpochTable(measuresDir, layerRsaFormat).filter((r) => r.epoch <= epoch);
      if (m.fisherRows) m.fisherRows = readEpochTable(measuresDir, epochMeasuresFormat).filter((r) => r.epoch <= epoch);
    },
    async afterEpoch(epoch, output) {
      if (chosen) {
        const feats = chosen.map(() => [] as Float32Array[]);
        const widths: number[] = [];
        for (let a = 0; a < test.count; a += s.batchSize) {
          const b = Math.min(test.count, a + s.batchSize);
          const layers = tf.tidy(() => {
            const all = model.layerFeatures(tf.tensor4d(test.images.subarray(a * H * W * 3, b * H * W * 3), [b - a, H, W, 3]));
            return chosen.map((k) => all[k]!.features);
          });
          const data = await Promise.all(layers.map((t) => t.data()));
          data.forEach((d, i) => { feats[i]!.push(d as Float32Array); widths[i] = layers[i]!.shape[1]; });
          tf.dispose(layers);
        }
        const sets = chosen.map((k, i) => {
          const all = new Float32Array(test.count * widths[i]!);
          let o = 0;
          for (const part of feats[i]!) { all.set(part, o); o += part.length; }
          return { layer: k, name: names[k]!, features: all, n: test.count, d: widths[i]! };
        });
        m.layerRows!.push(...layerRsaRows(epoch, [...scoreLayers(sets, s.humanRdm), { layer: inner, name: outputLayerName, result: output }]));
        if (s.layerFeatures) writeLayerFeatures(s.scratch, epoch, test.ids, sets);
        writeLayerRsa(measuresDir, m.layerRows!);
      }
      if (probe) {
        const f = await empiricalFisherTrace([...model.variables.values()], probe.n, (i) =>
          s.crossEntropy(model.forward(tf.tensor4d(probe.images.subarray(i * H * W * 3, (i + 1) * H * W * 3), [1, H, W, 3])).logits, probe.labels.subarray(i, i + 1), s.classes));
        m.fisherRows!.push({ epoch, fisher_trace: f.trace, fisher_probe: probe.n });
        writeEpochMeasures(measuresDir, m.fisherRows!);
      }
    },
  };
  return m;
}

/** Writes the measures' tables into `dir` (the task's output dir). */
export function writeClassifyMeasures(dir: string, m: { layerRows: LayerRsaRow[] | null; fisherRows: EpochMeasuresRow[] | null }): void {
  if (m.layerRows) writeLayerRsa(dir, m.layerRows);
  if (m.fisherRows) writeEpochMeasures(dir, m.fisherRows);
}
