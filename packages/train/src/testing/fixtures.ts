import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StageContext, TaskResult } from '@lw/core';
import { generateToy, ToyParams } from '@lw/data';
import { createClip, initBackend, modelConfig, type ClipConfig } from '@lw/models';
import { saveClip } from '../model-store.js';
import { openTrainData } from '../open-data.js';
import { textTokenizer } from '../tokens.js';

/**
 * Test helpers: a small toy data set, a seeded CLIP saved as a pretrain task would, and a stage
 * context over temporary directories. Shared by this package's tests and the cross-package ones.
 */
export function tempDir(prefix = 'lw-train-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function task(dir: string, stage: string, params: Record<string, unknown> = {}, epoch?: number): TaskResult {
  return { dir, key: `${stage}:${dir}`, stage, params, condition: {}, epoch };
}

/** A toy data set of `images` items (48 of them test items) at `size` px. */
export function makeToy(opts: { images?: number; size?: number; seed?: number } = {}): TaskResult {
  const dir = tempDir('lw-toy-');
  const params = ToyParams.parse({ images: opts.images ?? 300, size: opts.size ?? 8, seed: opts.seed ?? 1 });
  generateToy(params, dir);
  return task(dir, 'data/toy', params);
}

/** A seeded, untrained CLIP of config `name` sized to the toy vocabulary, saved like train/clip-pretrain. */
export async function makeClipModel(data: TaskResult, name = 'test-clip', seed = 3): Promise<TaskResult> {
  await initBackend({ backend: (process.env.LW_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
  const base = modelConfig(name) as ClipConfig;
  const vocab = textTokenizer(openTrainData(data.dir), base).vocabSize;
  const clip = createClip(modelConfig(name, { vocabSize: vocab }) as ClipConfig, { seed });
  const dir = tempDir('lw-clip-');
  saveClip(dir, clip, { logitScale: 100 });
  clip.dispose();
  return task(dir, 'train/clip-pretrain', { model: name, seed });
}

/**
 * A micro CLIP for 8x8 toy images (5 tokens) whose joint space (64) is about as wide as the 66 targets,
 * so 100·cos can express a 66-d profile; DoRA rank 4 (alpha/r = 0.5 as in the study) on the last
 * vision and text block. Small enough that a training epoch takes a fraction of a second.
 */
export function microClipConfig(): ClipConfig {
  return {
    kind: 'clip', name: 'micro-clip', embedDim: 64,
    vision: { layout: 'clip', imageSize: 8, patchSize: 4, width: 32, layers: 2, heads: 2, mlpWidth: 64, lnEps: 1e-5, activation: 'quick_gelu' },
    text: { vocabSize: 512, contextLength: 8, width: 32, layers: 2, heads: 2, mlpWidth: 64, tokenizer: 'words', activation: 'quick_gelu', lnEps: 1e-5 },
    dora: { visionBlocks: [1], textBlocks: [1], rank: 4, alpha: 2 },
  };
}

/** The micro CLIP pretrained contrastively on `data` (30 epochs: past its plateau near chance). */
export async function makePretrainedClip(data: TaskResult): Promise<TaskResult> {
  const { pretrainParams, pretrainStage } = await import('../pretrain/stage.js');
  const params = pretrainParams.parse({ model: microClipConfig(), epochs: 30, lr: 3e-3, weightDecay: 0, backend: process.env.LW_BACKEND ?? 'wasm' });
  const ctx = stageContext(params, { data });
  await pretrainStage.run(ctx);
  return task(ctx.outDir, 'train/clip-pretrain', params);
}

export interface TestContext<P> extends StageContext<P> {
  lines: string[];
  progressed: Array<[number, number]>;
  abort: AbortController;
  /** What the stage gave `ctx.record` (the task runner writes it into params.json). */
  recorded: Record<string, unknown>;
}

/** A stage context over fresh out and scratch dirs (or the given scratch, to resume a killed task). */
export function stageContext<P>(params: P, inputs: StageContext<P>['inputs'], opts: { scratch?: string; abortAfterEpoch?: number } = {}): TestContext<P> {
  const outDir = tempDir('lw-out-');
  const scratchDir = opts.scratch ?? tempDir('lw-scratch-');
  mkdirSync(scratchDir, { recursive: true });
  const abort = new AbortController();
  const lines: string[] = [];
  const progressed: Array<[number, number]> = [];
  const recorded: Record<string, unknown> = {};
  return {
    params, inputs, outDir, scratchDir, taskKey: 'test', taskName: 'test', signal: abort.signal, abort, lines, progressed, recorded,
    threads: 1, gpus: [],
    record: (fields) => { Object.assign(recorded, fields); },
    log: (m) => { lines.push(m); },
    progress: (done, total) => {
      progressed.push([done, total]);
      if (opts.abortAfterEpoch !== undefined && done >= opts.abortAfterEpoch) abort.abort(new Error(`stopped after epoch ${done}`));
    },
  };
}
