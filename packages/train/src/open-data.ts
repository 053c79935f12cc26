import { join } from 'node:path';
import { toHumanRdm } from '@lw/eval';
import { batches, loadSplit, openDataset } from '@lw/data';
import type { SplitArrays, TrainData } from './dataset.js';

/** A prepared data directory (`data/toy`, `data/things`, `data/imagenet`) as training sees it. */
export function openTrainData(dir: string): TrainData {
  const ds = openDataset(dir);
  const m = ds.manifest;
  const loaded = new Map<string, SplitArrays>();
  return {
    dir,
    kind: m.kind,
    imageShape: [m.image.height, m.image.width, 3],
    normalization: m.normalization,
    counts: m.counts,
    targetDim: m.targetDim,
    classes: m.classes,
    prompts: ds.prompts,
    vocab: ds.vocab,
    humanRdm: ds.humanRdm ? toHumanRdm(ds.humanRdm.values, join(dir, 'human_rdm.arrow'), ds.humanRdm.ids) : undefined,
    captions: (split) => ds.split(split).captions,
    labels: (split) => ds.split(split).labels,
    loadSplit(split) {
      let s = loaded.get(split);
      if (!s) {
        const l = loadSplit(ds, split);
        s = { ids: l.ids, count: l.ids.length, images: l.images, targets: l.targets, labels: l.labels };
        loaded.set(split, s);
      }
      return s;
    },
    batches: (split, opts) => batches(ds, split, opts),
  };
}
