import { readTaskParamsFile, readTaskResultFile } from '@lw/core';

/**
 * What a task directory says about itself, from the two files @lw/core defines: `params.json`
 * (the task runner's provenance: stage, params, versions, backend) and, in a cache entry,
 * `result.json` (when and where it ran).
 */
export interface TaskInfo {
  stage?: string;
  params?: Record<string, unknown>;
  backend?: unknown;
  versions?: Record<string, unknown>;
  started?: string;
  finished?: string;
  host?: string;
}

/** Empty when neither file exists; a UserError naming the file and field when one is malformed. */
export function readTaskInfo(dir: string): TaskInfo {
  const params = readTaskParamsFile(dir);
  const result = readTaskResultFile(dir);
  return {
    stage: params?.stage,
    params: params?.params,
    backend: params?.backend,
    versions: params?.versions,
    started: result?.started,
    finished: result?.finished,
    host: result?.host,
  };
}
