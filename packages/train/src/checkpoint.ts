import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@lw/core';
import { z } from 'zod';
import { writeFileAtomic } from './files.js';
import { readTensorFile, writeTensorFile, type NamedTensor } from './tensor-file.js';

/**
 * Per-epoch checkpoints: `epoch{N}.safetensors` (trainable params as `param.<name>`, optimiser
 * state as `adam.exp_avg.<name>`, `adam.exp_avg_sq.<name>` or `sgd.momentum_buffer.<name>`, the
 * step count in the metadata) and `epoch{N}.json` (epoch, metrics, early-stopping state, the rows
 * this task wrote so far). N is the 1-based epoch; 0 is the initial state. The JSON is written
 * last, so a checkpoint counts as complete only when its JSON exists. Non-trainable model state
 * (BatchNorm running statistics) is saved as `state.<name>`, flat.
 */
export const checkpointInfo = z.object({
  epoch: z.number().int().min(0),
  optimizer: z.object({ kind: z.enum(['adamw', 'sgd']), step: z.number().int().min(0) }),
  /** This epoch's metrics row (absent for epoch 0). */
  metrics: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])).optional(),
  /** Every metrics row this task has written up to this epoch, for resuming in place. */
  rows: z.array(z.record(z.string(), z.union([z.number(), z.boolean(), z.string()]))).default([]),
  earlyStopping: z.object({ best: z.number(), counter: z.number().int() }).optional(),
  /** Set when training stopped after this epoch (early stopping). */
  stopped: z.boolean().default(false),
});
export type CheckpointInfo = z.output<typeof checkpointInfo>;

export interface Checkpoint {
  info: CheckpointInfo;
  /** Trainable parameters by name, with shapes. */
  params: Map<string, Float32Array>;
  shapes: Map<string, number[]>;
  /** Optimiser state tensors by their state key (`exp_avg.<name>`, `momentum_buffer.<name>`). */
  optimizerState: Map<string, Float32Array>;
  /** Non-trainable model state by name (BatchNorm running statistics), flat; absent when the model has none. */
  state?: Map<string, Float32Array>;
}

const OPT_PREFIX = { adamw: 'adam.', sgd: 'sgd.' } as const;

export function checkpointPaths(dir: string, epoch: number) {
  return { tensors: join(dir, `epoch${epoch}.safetensors`), info: join(dir, `epoch${epoch}.json`) };
}

export function writeCheckpoint(dir: string, ck: Checkpoint): void {
  const tensors = new Map<string, NamedTensor>();
  for (const [name, data] of ck.params) tensors.set(`param.${name}`, { dtype: 'F32', shape: ck.shapes.get(name)!, data });
  const prefix = OPT_PREFIX[ck.info.optimizer.kind];
  for (const [key, data] of ck.optimizerState) {
    // state keys are `<state kind>.<param name>`; moments have their parameter's shape
    const shape = ck.shapes.get(key.slice(key.indexOf('.') + 1)) ?? [data.length];
    tensors.set(prefix + key, { dtype: 'F32', shape, data });
  }
  for (const [name, data] of ck.state ?? []) tensors.set(`state.${name}`, { dtype: 'F32', shape: [data.length], data });
  const paths = checkpointPaths(dir, ck.info.epoch);
  writeTensorFile(paths.tensors, tensors, {
    format: 'lw-checkpoint/1',
    epoch: String(ck.info.epoch),
    optimizer: ck.info.optimizer.kind,
    step: String(ck.info.optimizer.step),
  });
  writeFileAtomic(paths.info, JSON.stringify(ck.info, null, 2) + '\n');
}

export function readCheckpoint(dir: string, epoch: number): Checkpoint {
  const paths = checkpointPaths(dir, epoch);
  if (!existsSync(paths.info) || !existsSync(paths.tensors)) {
    throw new UserError(`no checkpoint for epoch ${epoch} in ${dir} (expected epoch${epoch}.safetensors and epoch${epoch}.json)`,
      `available epochs: ${listCheckpoints(dir).join(', ') || 'none'}`);
  }
  const parsed = checkpointInfo.safeParse(JSON.parse(readFileSync(paths.info, 'utf8')));
  if (!parsed.success) throw new UserError(`${paths.info}: field "${parsed.error.issues[0].path.join('.')}": ${parsed.error.issues[0].message}`);
  const info = parsed.data;
  const file = readTensorFile(paths.tensors);
  const prefix = OPT_PREFIX[info.optimizer.kind];
  const params = new Map<string, Float32Array>();
  const shapes = new Map<string, number[]>();
  const optimizerState = new Map<string, Float32Array>();
  const state = new Map<string, Float32Array>();
  for (const [key, t] of file.tensors) {
    if (key.startsWith('param.')) {
      params.set(key.slice(6), t.data as Float32Array);
      shapes.set(key.slice(6), t.shape);
    } else if (key.startsWith(prefix)) optimizerState.set(key.slice(prefix.length), t.data as Float32Array);
    else if (key.startsWith('state.')) state.set(key.slice(6), t.data as Float32Array);
    else throw new UserError(`${paths.tensors}: unexpected tensor ${key}`, `a ${info.optimizer.kind} checkpoint holds param.*, ${prefix}* and state.* tensors`);
  }
  return { info, params, shapes, optimizerState, ...(state.size ? { state } : {}) };
}

/** Epochs with a complete checkpoint in `dir`, ascending. */
export function listCheckpoints(dir: string): number[] {
  if (!existsSync(dir)) return [];
  const names = new Set(readdirSync(dir));
  return [...names]
    .map((n) => /^epoch(\d+)\.json$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null && names.has(`epoch${m[1]}.safetensors`))
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}
