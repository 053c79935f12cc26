import type { BatchOptions } from '@lw/data';
import type { HumanRdm } from '@lw/eval';

/**
 * What training needs from a prepared data directory (`@lw/data`'s readers, seen through
 * `openTrainData`): whole splits for evaluation and feature caching, and the shuffled training
 * batches whose order is a pure function of (seed, epoch) (@lw/data's batches and BatchOptions).
 */
export interface SplitArrays {
  ids: string[];
  count: number;
  /** [count, H, W, 3] normalised */
  images: Float32Array;
  /** [count, targetDim] */
  targets?: Float32Array;
  labels?: Int32Array;
}

export interface TrainBatchData {
  /** 0-based batch index within the epoch */
  index: number;
  ids: string[];
  /** Row of each sample in the split's stored order */
  rows: Int32Array;
  /** [B, H, W, 3] normalised */
  images: Float32Array;
  targets?: Float32Array;
  labels?: Int32Array;
}

/** Per-channel constants, RGB: pixel/255 - mean, / std. */
export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
}

export interface TrainData {
  dir: string;
  kind: string;
  /** [H, W, 3] */
  imageShape: [number, number, number];
  /** The normalisation the data set's readers apply by default */
  normalization: Normalization;
  counts: { train: number; val: number; test: number };
  targetDim?: number;
  classes?: string[];
  prompts?: string[];
  vocab?: string[];
  /** The human RDM of the test images, rows in RDM order (= test split order). */
  humanRdm?: HumanRdm;
  /** The toy set's captions of a split, in stored order (for contrastive pretraining). */
  captions(split: 'train' | 'val' | 'test'): string[] | undefined;
  /** Class labels of a split in stored order, without decoding images. */
  labels(split: 'train' | 'val' | 'test'): Int32Array | undefined;
  loadSplit(split: 'train' | 'val' | 'test'): SplitArrays;
  batches(split: 'train' | 'val' | 'test', opts: BatchOptions): AsyncIterable<TrainBatchData>;
}
