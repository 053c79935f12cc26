import { LAYER_RSA_FILE, LayerRsaRow, UserError, layerRsaColumns, layerRsaIntColumns } from '@lw/core';
import { rsa, type HumanRdm, type RsaResult } from '@lw/eval';
import { join } from 'node:path';
import { writeEmbeddings } from './embeddings.js';
import { writeEpochTable, type EpochTableFormat } from './epoch-tables.js';

/**
 * Layer-wise RSA every epoch (issue 19): the RSA of each chosen image-tower block's pooled features
 * of the RSA images against the human RDM, and of the model's final output (the features behind
 * metrics' RSA column) as the last layer, named `output`. Rows go to `layer_rsa.csv/.arrow`.
 */
export const layerRsaFormat: EpochTableFormat<LayerRsaRow> = {
  stem: LAYER_RSA_FILE, columns: layerRsaColumns, intColumns: layerRsaIntColumns, schema: LayerRsaRow,
};

/** One layer's features: `features` [n, d], row i = stimulus i of the human RDM's order. */
export interface LayerFeatureSet {
  layer: number;
  name: string;
  features: Float32Array | Float64Array;
  n: number;
  d: number;
}

/** A layer's RSA already computed (the output layer reuses metrics' result, so the two are the same number). */
export interface LayerScore { layer: number; name: string; result: RsaResult }

export const outputLayerName = 'output';
export const blockLayerName = (k: number) => `block${k}`;

/** RSA of each layer's features against `human` (the study's RSA: 1 - Pearson RDM, Spearman). */
export function scoreLayers(layers: LayerFeatureSet[], human: HumanRdm): LayerScore[] {
  return layers.map((l) => ({ layer: l.layer, name: l.name, result: rsa(l.features, l.n, l.d, human) }));
}

export function layerRsaRows(epoch: number, scores: LayerScore[]): LayerRsaRow[] {
  return scores.map((s) => ({ epoch, layer: s.layer, layer_name: s.name, rsa_rho: s.result.rho, rsa_p_value: s.result.p }));
}

export function writeLayerRsa(dir: string, rows: LayerRsaRow[]): void {
  writeEpochTable(dir, layerRsaFormat, rows);
}

/**
 * Which blocks a `layers` param selects: none, all of `blockCount`, or the listed indices (sorted,
 * deduplicated; each must exist).
 */
export function selectBlocks(layers: 'none' | 'all' | number[], blockCount: number, where: string): number[] {
  if (layers === 'none') return [];
  if (layers === 'all') return Array.from({ length: blockCount }, (_, k) => k);
  const bad = layers.filter((k) => k < 0 || k >= blockCount);
  if (bad.length) throw new UserError(`${where}: layers ${JSON.stringify(layers)} name blocks ${bad.join(', ')}, which do not exist`, `the image tower has blocks 0..${blockCount - 1}; use 'all', 'none' or indices in that range`);
  return [...new Set(layers)].sort((a, b) => a - b);
}

/** Folder of the saved layer features (params.layerFeatures), beside embeddings/. */
export const LAYER_FEATURES_DIR = 'layer_features';

/**
 * Saves each layer's features of the RSA images as `layer_features/epoch{N}/{name}.arrow` (the
 * embeddings format: id + features [n, d]), so CKA or RSA between layers can be computed afterwards
 * (`lw cka --features .../epoch{N}/*.arrow`). The output layer is the run's embeddings/epoch{N}.arrow.
 */
export function writeLayerFeatures(dir: string, epoch: number, ids: string[], layers: LayerFeatureSet[]): void {
  for (const l of layers) {
    const f = l.features instanceof Float32Array ? l.features : Float32Array.from(l.features);
    writeEmbeddings(join(dir, LAYER_FEATURES_DIR, `epoch${epoch}`, `${l.name}.arrow`), ids, f, l.d);
  }
}
