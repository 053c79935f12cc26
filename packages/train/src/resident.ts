import type { Clip } from '@lw/models';
import type { TrainData } from './dataset.js';
import { FeatureCache } from './feature-cache.js';
import { loadSavedClip } from './model-store.js';
import { openTrainData } from './open-data.js';

/**
 * A task's large inputs kept in the process between tasks. The local executor hands a worker process
 * task after task, and the study's 201 behaviour tasks share one model, one data set and one feature
 * cache: loading the model (427.6M weights to the GPU), reading the cache (1.95 GB) and the splits, and
 * uploading the cache again took ~6-9 s of every ViT-L/14 task on an H200 (bench/study-gpu). Inputs are
 * cache entries, immutable under their directory, so a directory names its content. One of each kind is
 * kept; asking for another directory disposes the last. Everything here is read-only to the stages
 * (the model's frozen weights, the cache's rows), so a task sees what a fresh process would load.
 */
interface Slot<T> { dir: string; value: T; dispose(): void }
const slots: { clip?: Slot<Clip>; data?: Slot<TrainData>; features?: Slot<FeatureCache> } = {};

function resident<K extends keyof typeof slots>(kind: K, dir: string, load: () => NonNullable<(typeof slots)[K]>['value'], dispose: (v: NonNullable<(typeof slots)[K]>['value']) => void): NonNullable<(typeof slots)[K]>['value'] {
  const slot = slots[kind];
  if (slot && slot.dir === dir) return slot.value;
  slot?.dispose();
  const value = load();
  (slots as Record<string, Slot<unknown>>)[kind] = { dir, value, dispose: () => dispose(value) };
  return value;
}

/** The saved CLIP of `dir` (train/clip-pretrain or train/clip-import); the caller must not dispose it. */
export const residentClip = (dir: string): Clip => resident('clip', dir, () => loadSavedClip(dir), (c) => c.dispose());
/** The data set of `dir`, with the splits it has loaded; the caller must not modify the arrays. */
export const residentData = (dir: string): TrainData => resident('data', dir, () => openTrainData(dir), () => undefined);
/** The feature cache of `dir`, with its rows on the device once uploaded; the caller must not dispose it. */
export const residentFeatures = (dir: string): FeatureCache => resident('features', dir, () => FeatureCache.open(dir), (f) => f.dispose());

/** Frees everything kept (e.g. before a backend switch, or in tests that count tensors). */
export function releaseResident(): void {
  for (const k of Object.keys(slots) as (keyof typeof slots)[]) { slots[k]?.dispose(); delete slots[k]; }
}
