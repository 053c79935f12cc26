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

export interface TestContext<P> extends StageContext<P> {
  lines: string[];
  progressed: Array<[number, number]>;
  abort: AbortController;
}

/** A stage context over fresh out and scratch dirs (or the given scratch, to resume a killed task). */
export function stageContext<P>(params: P, inputs: StageContext<P>['inputs'], opts: { scratch?: string; abortAfterEpoch?: number } = {}): TestContext<P> {
  const outDir = tempDir('lw-out-');
  const scratchDir = opts.scratch ?? tempDir('lw-scratch-');
  mkdirSync(scratchDir, { recursive: true });
  const abort = new AbortController();
  const lines: string[] = [];
  const progressed: Array<[number, number]> = [];
  return {
    params, inputs, outDir, scratchDir, taskKey: 'test', taskName: 'test', signal: abort.signal, abort, lines, progressed,
    log: (m) => { lines.push(m); },
    progress: (done, total) => {
      progressed.push([done, total]);
      if (opts.abortAfterEpoch !== undefined && done >= opts.abortAfterEpoch) abort.abort(new Error(`stopped after epoch ${done}`));
    },
  };
}
