export { stages } from './stages.js';
export { commands } from './commands.js';
export {
  readManifest, writeManifest, SPLITS, ImageStorage, ShardEntry, SourceFingerprint, Manifest, MANIFEST_FILE,
  type SplitName,
} from './manifest.js';
export {
  shardTable, writeShard, readShard, shardColumns, type ShardImages, type ShardRows, type StoredImages,
  type ShardColumns,
} from './shards.js';
export { validateRdm, humanRdmTable, writeHumanRdm, readHumanRdm, type HumanRdm } from './human-rdm.js';
export {
  openDataset, loadSplit, IN_MEMORY_LIMIT_BYTES, type SplitView, type Dataset, type OpenOptions, type LoadedSplit,
} from './dataset.js';
export { batches, type Augment, type BatchOptions, type Batch } from './batches.js';
export { randomResizedCropBox, centreCropBox, roundHalfEven } from './augment.js';
export { resampleCrop, type Box } from './resample.js';
export { channelStats, normalizeInto } from './pixels.js';
export { seededSplit } from './split.js';
export { ToyParams, generateToy } from './toy/generate.js';
export { PROMPTS as TOY_PROMPTS } from './toy/embedding.js';
export { SHAPES as TOY_SHAPES, caption as toyCaption, type ToyFactors } from './toy/factors.js';
export { ThingsParams, prepareThings, THINGS_MEAN, THINGS_STD } from './things.js';
export { readEmbedding, readNameList, readRdmMatrix, readTestIndex } from './readers/tables.js';
export { ImagenetParams, convertImagenet, publishConversion, IMAGENET_MEAN, IMAGENET_STD } from './imagenet/convert.js';
export { discoverImagenet, type ImagenetTree, type ImageItem } from './imagenet/layout.js';
export { decodeResized, decodeShortSide, decodeResizeCentreCrop } from './decode.js';
export { inspectDataset, formatInspection, contactSheet, defaultSheetPath, type Inspection, type RdmStats } from './inspect.js';
