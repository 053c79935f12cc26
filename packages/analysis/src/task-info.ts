import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '@lw/core';

/** `params.json` that training tasks write beside their outputs: stage, resolved params, backend, versions. */
const ParamsFile = z.looseObject({
  stage: z.string().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  backend: z.unknown().optional(),
  versions: z.record(z.string(), z.unknown()).optional(),
});

/** `result.json` of a cache entry: when and where the task ran. */
const ResultFile = z.looseObject({
  started: z.string().optional(),
  finished: z.string().optional(),
  seconds: z.number().optional(),
  host: z.string().optional(),
});

function readJson<S extends z.ZodType>(file: string, schema: S): z.output<S> | undefined {
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`, 'the task info files are written by the train stages and the cache');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new UserError(`${file}: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`, 'expected the task info written by the train stages');
  return parsed.data;
}

export interface TaskInfo {
  stage?: string;
  params?: Record<string, unknown>;
  backend?: unknown;
  versions?: Record<string, unknown>;
  started?: string;
  finished?: string;
  host?: string;
}

/** What a task directory says about itself (params.json, and result.json in a cache entry); empty when neither exists. */
export function readTaskInfo(dir: string): TaskInfo {
  const params = readJson(join(dir, 'params.json'), ParamsFile);
  const result = readJson(join(dir, 'result.json'), ResultFile);
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
