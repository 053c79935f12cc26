/**
 * `@lw/train/loops`: the training loops and what they run on, without the stages. The package
 * index also loads the stages, and through them @lw/data, whose image codec (sharp) is native and
 * may be absent (the GPU machine); benches that drive a loop directly import this entry instead.
 */
export { trainBehavior } from './behavior/loop.js';
export { behaviorParams, type BehaviorParams } from './behavior/params.js';
export { FeatureCache, featuresManifest, type FeaturesManifest } from './feature-cache.js';
export { writeFeatures } from './features/write.js';
export { AdamW, adamwOptions, type AdamWOptions } from './optim/adamw.js';
export { DeviceAdamW } from './optim/adamw-device.js';
export { Sgd, sgdOptions, type SgdOptions } from './optim/sgd.js';
export type { TrainData, SplitArrays, TrainBatchData } from './dataset.js';
