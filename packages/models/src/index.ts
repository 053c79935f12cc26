export { tf } from './tf.js';
export {
  backendUsesGpu, initBackend, wasmThreadCount, vulkanLoaderPresent, BackendName, type BackendInfo,
  type InitBackendOptions,
} from './backend.js';
export {
  modelConfig, configFromJson, VisionConfig, TextConfig, DoraConfig, ClipConfig, VitConfig, ModelConfig,
  TINY_VOCAB_SIZE, MODEL_NAMES, type ConfigOverrides,
} from './config.js';
export { initValues, initParams, ParamStore, type Init, type ParamSpec } from './params.js';
export {
  frozenLinear, linear, layerNorm, activation, embedRows, selectRows, attention, residualBlock, residualBlockAt,
  causalMask, columnNorms, unitRows, matMulPlain, type FrozenLinear, type BlockWeights, type BlockShape,
} from './layers.js';
export { normalNoise, normalNoiseOnDevice } from './noise.js';
export { lwMatMul, setLwMatMulEnabled, setMatMulTiling } from './webgpu/matmul.js';
export { setFusedAttentionEnabled } from './webgpu/attention.js';
export { adamwUpdate, type AdamWScalars } from './webgpu/adamw.js';
export { dispatchCacheStats, setDispatchCacheEnabled } from './webgpu/dispatch-cache.js';
export { setSavedTensorsFast } from './webgpu/saved-tensors.js';
export {
  vitBlockNames, blockWeights, blockSpecs, vitSpecs, VisionTransformer, type BlockNames, type VitForwardOptions,
  type VitOutput,
} from './vit.js';
export { textSpecs, usedLength, eotPositions, TextTransformer } from './text.js';
export { clipSpecs, cosineLogits, createClip, Clip } from './clip.js';
export { doraWeight, createDora, type DoraLayer } from './dora.js';
export { createClipHba, type ClipHbaOptions, type ClipHba } from './clip_hba.js';
export { vitClassifierSpecs, createVitClassifier, vitClassifierFromParams, type VitClassifier } from './vit_classifier.js';
export { vitConfigFromTimm, TimmHubConfig, TIMM_VIT_ARCHITECTURES, type TimmVitInfo } from './timm-config.js';
export { ResnetConfig, resnetConfigs, blockExpansion, resnetFeatureWidth } from './resnet-config.js';
export {
  Resnet, createResnet, resnetPlan, resnetSpecs, stateVariables, BN_EPS, BN_MOMENTUM, type ResnetBlockPlan,
  type ResnetForwardOptions, type ResnetOutput,
} from './resnet.js';
export { loadResnet, resnetConfigFromWeights } from './resnet-checkpoint.js';
export { WordTokenizer } from './word_tokenizer.js';
export { bytesToUnicode, ClipTokenizer } from './bpe_tokenizer.js';
export {
  halfToFloat, toFloat32, readSafetensors, writeSafetensors, DTYPES, SafetensorsFile, type Dtype, type TensorEntry,
  type TypedArray, type TensorData,
} from './safetensors.js';
export { detectLayout, mapCheckpoint, loadParams, loadClip, loadVit, type CheckpointLayout } from './checkpoint.js';
export {
  findClipCheckpoint, loadClipCheckpoint, matchParams, fileKeyName, readCheckpointJson, type ClipCheckpoint, type ClipCheckpointLayout, type FindClipOptions,
  type ParamMatch,
} from './checkpoint.js';
export { clipConfigFromHf, isHfClipJson } from './hf-clip-config.js';
export { clipConfigFromOpenClip } from './openclip-config.js';
export { clipConfigFromShapes } from './openai-clip-shapes.js';
export { studyDora, checkpointName } from './imported-config.js';
export { inspectCheckpoint, formatReport, type CheckpointReport, type InspectOptions } from './inspect.js';
export { summarize, type ModelSummary } from './summary.js';
export { stages } from './stages.js';
export { commands } from './commands.js';
