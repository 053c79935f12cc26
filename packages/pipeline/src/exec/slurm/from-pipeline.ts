import { UserError } from '@lw/core';
import type { z } from 'zod';
import { SlurmResourcesSchema, SlurmSectionSchema, type SlurmExecutorConfig } from './config.js';

/** The parts of a parsed pipeline file this module reads (`SourceFile` from source.ts fits). */
export interface PipelineSource {
  data: unknown;
  /** `file:line:col` of the value at a path. */
  at(path: (string | number)[]): string;
}

/**
 * The Slurm settings of a pipeline file: its `executor:` section (when `type: slurm`; any other
 * section is the local executor's and gives Slurm's defaults) and every stage's `resources:`.
 * Each value is checked here, so a typo fails before anything is submitted, with file:line:col.
 */
export function slurmConfigFromPipeline(source: PipelineSource): SlurmExecutorConfig {
  const data = (source.data ?? {}) as { executor?: { type?: unknown }; stages?: Record<string, { resources?: unknown }> };
  const section = data.executor?.type === 'slurm' ? data.executor : { type: 'slurm' };
  const config = checked(SlurmSectionSchema, section, ['executor'], source);
  const stages: SlurmExecutorConfig['stages'] = {};
  for (const [name, block] of Object.entries(data.stages ?? {})) {
    if (block?.resources !== undefined) {
      stages[name] = checked(SlurmResourcesSchema, block.resources, ['stages', name, 'resources'], source);
    }
  }
  return { ...config, stages };
}

function checked<S extends z.ZodType>(schema: S, value: unknown, base: (string | number)[], source: PipelineSource): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  // An unknown key is shown where it is written, not at the start of its block.
  const path = [...base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), ...(unknownKey ? [unknownKey] : [])];
  throw new UserError(
    `${source.at(path)}: ${path.join('.')}: ${unknownKey ? 'not a Slurm setting' : issue.message}`,
    'Slurm resources are partition, account, qos, time ("4:00:00" or minutes), cpus, mem (16G or MB), ' +
      'gpus (1 or "a100:2"), gpuFlag (gres|gpus), arrayLimit and extra (a list of sbatch flags such as "--constraint=a100")',
  );
}
