/** The Slurm executor: submit with sbatch, poll with squeue/scontrol (sacct when it works), cancel with scancel. */
export { SlurmExecutor, type SlurmExecutorOptions } from './slurm-executor.js';
export { SlurmExecutorConfigSchema, SlurmResourcesSchema, SlurmSectionSchema, stageResources, type SlurmExecutorConfig, type SlurmResources } from './config.js';
export { slurmConfigFromPipeline, type PipelineSource } from './from-pipeline.js';
export { cancelCommand, cancelRun } from './cancel.js';
export { slurmLogPath } from './files.js';
export { slurmTaskStatus, type SlurmTaskStatus } from './status.js';
export { slurmExecutorFactory, slurmConfigFromPlan } from './factory.js';
export { runStatePath, readRunState, type RunState } from './run-state.js';
export { slurmReachable, runTool, type RunTool, type ToolResult } from './tools.js';
export { shellQuote, shellCommand } from './quote.js';
