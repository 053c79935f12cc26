import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTaskParamsFile } from '@lw/core';
import { Cache } from '../cache/cache.js';
import { testRegistry } from '../testing/stages.js';
import type { TaskSpec } from './executor.js';
import { machineShare, runTask } from './task-runner.js';

function specWith(params: Record<string, unknown>): { cache: Cache; key: string } {
  const cache = new Cache(join(mkdtempSync(join(tmpdir(), 'lw-runner-')), 'cache'));
  const key = 'a'.repeat(64);
  const spec: TaskSpec = {
    version: 1, key, name: 'baseline', stageName: 'baseline', pipeline: 'p', stage: 'train/fake',
    params, condition: {}, inputs: {}, keyInputs: {}, pipelineDir: tmpdir(),
  };
  mkdirSync(dirname(cache.specPath(key)), { recursive: true });
  writeFileSync(cache.specPath(key), JSON.stringify(spec));
  return { cache, key };
}

describe('task runner', () => {
  it("rechecks the spec's params against the stage schema before running, naming the param", async () => {
    const { cache, key } = specWith({ epochs: 'five', seed: 1 });
    await expect(runTask(cache, key, { signal: new AbortController().signal, registry: testRegistry() }))
      .rejects.toThrow(/task baseline: param "epochs" does not fit stage train\/fake: .*number/);
    expect(cache.has(key)).toBe(false);
  });

  it('gives a task its share of the machine: local executor threads, else the Slurm allocation, else 1', () => {
    expect(machineShare({ LW_TASK_THREADS: '3', SLURM_CPUS_PER_TASK: '8' })).toEqual({ threads: 3, gpus: [] });
    expect(machineShare({ SLURM_CPUS_PER_TASK: '8' }).threads).toBe(8);
    expect(machineShare({})).toEqual({ threads: 1, gpus: [] });
    expect(machineShare({ LW_TASK_THREADS: 'x' }).threads).toBe(1);
    expect(machineShare({ LW_TASK_GPUS: '1,3' }).gpus).toEqual(['1', '3']);
  });
});

describe('provenance', () => {
  it('writes params.json for every stage: stage, checked params, versions, and what the stage recorded', async () => {
    const { cache, key } = specWith({ epochs: 3 });
    const registry = testRegistry();
    const fake = registry.get('train/fake')!;
    registry.set('train/fake', { ...fake, def: { ...fake.def, run: async (ctx) => { ctx.record({ backend: { name: 'cpu-test' } }); return {}; } } });
    expect(await runTask(cache, key, { signal: new AbortController().signal, registry })).toBe('ran');
    const file = readTaskParamsFile(cache.entryDir(key))!;
    expect(file).toMatchObject({ stage: 'train/fake', params: { epochs: 3, seed: 1 }, backend: { name: 'cpu-test' } });
    expect(file.versions).toMatchObject({ node: process.versions.node, '@lw/core': expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(cache.check(key).bad).toEqual([]);
  });

  it('refuses a stage that writes params.json itself', async () => {
    const { cache, key } = specWith({ epochs: 3 });
    const registry = testRegistry();
    const fake = registry.get('train/fake')!;
    registry.set('train/fake', { ...fake, def: { ...fake.def, run: async (ctx) => { writeFileSync(join(ctx.outDir, 'params.json'), '{}'); return {}; } } });
    await expect(runTask(cache, key, { signal: new AbortController().signal, registry })).rejects.toThrow(/wrote params.json, which the task runner writes/);
    expect(cache.has(key)).toBe(false);
  });
});
