export { averageRanks, denseRanks, sortOrder } from './ranks.js';
export { logGamma, regularizedIncompleteBeta, regularizedUpperGamma, erfc, studentTPValue, normalTwoSidedPValue } from './special.js';
export { pearson, pearsonR, spearman, kendallTau, correlate, type CompareMethod, type Correlation } from './correlation.js';
export {
  METRICS, computeRdm, correlationRdm, pairwiseDissimilarities, upperTriangle, squareForm,
  pairCount, pairIndex, sizeOfRdm, validateRdm, type Metric,
} from './rdm.js';
export { permutationPValue, bootstrapCi, quantile, type PermutationOptions, type BootstrapOptions } from './inference.js';
export {
  rsa, rsaLayers, compareRdms, toHumanRdm, type HumanRdm, type RsaOptions, type RsaResult, type LayerFeatures,
} from './rsa.js';
export { readMat, readNpy, type MatArray, type NpyArray } from '@lw/core';
export { parseCsv, parseNumber, type CsvRow } from './csv.js';
export { readFeaturesArrow, readRdmArrow, writeFeaturesArrow, writeRdmArrow } from './arrow-io.js';
export { loadFeatures, loadHumanRdm, type LoadedFeatures, type LoadRdmOptions } from './load.js';
export { rsaStage, rsaParams, embeddingEpochs, checkSameStimuli, type RsaParams } from './stages.js';
export { ckaStage, ckaParams, ckaOptions, writeCkaResults, CKA_RUN_FILE, CkaRunInfo, type CkaParams, type CkaRow } from './cka-stage.js';
export { readHumanEmbedding } from './human-embedding.js';
export { stages } from './registry.js';
export { commands, rsaCommand, runRsaCommand, rsaArgs, rsaJson, type RsaArgs } from './commands.js';
export {
  cka, ckaLayers, ckaMatrix, centeredGram, ckaFromGrams, hsic, rbfBandwidth, medianSquaredDistance, CKA_KERNELS, CKA_DEFAULT_SIGMA,
  type CkaKernel, type CkaOptions, type CkaResult, type CkaMatrix, type CenteredGram, type FeatureMatrix,
} from './cka.js';
