/**
 * @lw/pipeline: pipeline files to task graphs (plan/), the content-addressed cache (cache/),
 * executors that run tasks locally or on Slurm (exec/), the built-in `exec` stage (stages/) and
 * the `lw` command line (cli/). docs/architecture.md walks through them.
 */
export { plan, suggest, type Plan, type PlannedTask, type Fingerprints } from './plan/plan.js';
export { loadPlan, type Loaded } from './plan/load.js';
export { taskKey, type KeyInputs, type InputKey } from './plan/key.js';
export { parseSource, readSource, type SourceFile, type Path } from './plan/source.js';
export { PipelineFileSchema, StageBlockSchema, MatrixSchema, EnvVarSchema, pipelineJsonSchema, type PipelineFile, type StageBlock, type Matrix, type EnvVar } from './plan/schema.js';
export { Cache, type EntryResult } from './cache/cache.js';
export { removeTree } from './cache/read-only.js';
export { codeFingerprint, filesFingerprint, workspacePackages } from './cache/fingerprint.js';
export { tryNoopRun } from './cache/noop-stamp.js';
export { TaskSpecSchema, InputRefSchema, taskCommand, defaultLwBin, type Executor, type ExecutorFactory, type ExecutorOptions, type ExecTask, type ExecEvent, type ExecPoll, type TaskSpec, type InputRef } from './exec/executor.js';
export { executors, executorName } from './exec/executors.js';
export { LocalExecutor, type LocalOptions } from './exec/local.js';
export { runTask, readSpec, type RunTaskOptions, type TaskOutcome } from './exec/task-runner.js';
export { SlurmExecutor, slurmExecutorFactory, slurmConfigFromPlan, slurmReachable, slurmTaskStatus, readRunState, runStatePath, cancelRun, type SlurmExecutorOptions, type RunState } from './exec/slurm/index.js';
export { loadRegistry, type Registry, type RegisteredStage } from './stages/registry.js';
export { execStage, ExecParamsSchema } from './stages/exec-stage.js';
export { stages } from './stages/stages.js';
export { runPipeline, selectTasks, execTasks, writeSpec, defaultResultsRoot, type RunOptions, type RunSummary } from './cli/run.js';
export { commands } from './cli/commands.js';
