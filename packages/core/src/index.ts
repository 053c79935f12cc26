export { canonicalJson, sha256, jsonKey } from './hash.js';
export { UserError, isUserError, formatError } from './errors.js';
export { philox4x32, rngStream, Rng, type RngPath } from './rng.js';
export { formatDuration, eta, ProgressLine, type ProgressOptions } from './progress.js';
export {
  defineStage, singleInput, listInput,
  type TaskResult, type StageInput, type StageContext, type StageSummary, type InputSpec, type StageResources, type StageDef,
} from './stage.js';
export { repoRoot, sharedDir } from './shared.js';
export type { CliCommand } from './cli.js';
export {
  perturbationKinds, PerturbationKind, perturbationLabels, vitPerturbationKinds, perturbationWindow, readPerturbation,
  type VitPerturbationType, type Perturbation,
} from './perturbation.js';
export { packageVersions, provenancePackages } from './versions.js';
export { readMat, type MatArray } from './formats/mat.js';
export { readNpy, type NpyArray } from './formats/npy.js';
export { readJsonFile, writeJsonFile } from './formats/json-file.js';
export { TASK_PARAMS_FILE, TaskParamsFileSchema, readTaskParamsFile, writeTaskParamsFile, type TaskParamsFile } from './formats/task-params.js';
export { TASK_RESULT_FILE, TaskResultFileSchema, readTaskResultFile, writeTaskResultFile, type TaskResultFile } from './formats/task-result.js';
export {
  studyMetricsColumns, perturbationFlagColumns, behaviorMetricsColumns, classifyMetricsColumns, measureMetricsColumns,
  type PerturbationFlagColumn,
} from './formats/metrics.js';
export {
  LAYER_RSA_FILE, layerRsaColumns, layerRsaIntColumns, LayerRsaRow,
  EPOCH_MEASURES_FILE, epochMeasuresColumns, epochMeasuresIntColumns, EpochMeasuresRow,
} from './formats/epoch-measures.js';
