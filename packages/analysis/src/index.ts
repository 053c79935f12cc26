export { stages, criticalPeriods } from './stages.js';
export { commands, analyzeCommand, type AnalyzeArgs } from './commands.js';
export { parseMetricsCsv, readMetricsCsv, rowAt, EpochRow, type MetricsTable } from './metrics.js';
export { readMetricsArrow } from './metrics-arrow.js';
export {
  studyTypeName, findMetricsFile, readMetrics, collect, studySweepRun, studyLengthRun, discoverSweep, discoverLengths,
  discoverTypes, checkRunRows, PerturbType, Condition, type Run, type Problem,
} from './runs.js';
export { truncateBaseline, computeEffect, type Baseline, type Effect } from './effects.js';
export { lossRecovery, alignmentRecovery, type Recovery } from './recovery.js';
export { meanCI, groupBy, type MeanCI } from './summary.js';
export { studentTCdf, studentTQuantile, studentTTwoSidedP } from './student-t.js';
export { pairedTTest, benjaminiHochberg, type PairedTest } from './significance.js';
export { baselineFor } from './pairing.js';
export { buildFindings, findingsHtml, findingsMarkdown, type Findings, type ModelFindings, type TypeFindings } from './findings.js';
export { analyzeStudy, AnalysisParams, TESTED_MEASURES, type Arm, type Study, type SummaryRow, type Results } from './analyze.js';
export { toCells, toCsv, toArrow, materialize, writeTable, type Column, type OutputTable, type MaterializedTable } from './tables.js';
export { buildFigures, labelledEpochs, baselineBand, type Figure } from './figures.js';
export { typeLabel } from './labels.js';
export { renderSpec, FONT_FAMILY, type RenderedFigure } from './render.js';
export { reportHtml, type Provenance } from './report.js';
export { loadStudyFromDirs, loadStudyFromTasks, runFromTask, baselineFromTask, type StudyDirs } from './load.js';
export { writeAnalysis, type AnalysisSummary } from './write.js';
export { readTaskInfo, type TaskInfo } from './task-info.js';
