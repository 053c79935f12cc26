import { describe, expect, it } from 'vitest';
import { detectGpus, gpuCount, GpuSlots } from './gpu-slots.js';

describe('gpuCount (resources.gpus, as Slurm reads it)', () => {
  it.each([[undefined, 0], [1, 1], ['2', 2], ['a100:2', 2], [0, 0]])('%o -> %i', (v, n) => expect(gpuCount(v)).toBe(n));
  it('refuses what is not a count', () => expect(() => gpuCount('two')).toThrow(/not a GPU count/));
});

describe('detectGpus', () => {
  const smi = 'GPU 0: NVIDIA H200 (UUID: GPU-a)\nGPU 1: NVIDIA H200 (UUID: GPU-b)\n';
  it('reads nvidia-smi -L', () => expect(detectGpus({}, () => smi)).toEqual(['0', '1']));
  it('LW_GPUS overrides: a count or ids', () => {
    expect(detectGpus({ LW_GPUS: '3' }, () => smi)).toEqual(['0', '1', '2']);
    expect(detectGpus({ LW_GPUS: '0,2' }, () => smi)).toEqual(['0', '2']);
    expect(() => detectGpus({ LW_GPUS: '0;2' })).toThrow(/LW_GPUS/);
  });
  it('no nvidia-smi: no GPUs', () => expect(detectGpus({}, () => { throw new Error('ENOENT'); })).toEqual([]));
});

describe('GpuSlots', () => {
  it('spreads over GPUs first, then up to perGpu on each, and frees on release', () => {
    const s = new GpuSlots(['0', '1'], 2);
    const got = [s.acquire(1), s.acquire(1), s.acquire(1), s.acquire(1)];
    expect(got).toEqual([['0'], ['1'], ['0'], ['1']]);
    expect(s.acquire(1)).toBeUndefined();
    s.release(['1']);
    expect(s.acquire(1)).toEqual(['1']);
    expect(s.load()).toEqual({ 0: 2, 1: 2 });
  });
  it('a multi-GPU task takes one slot on each of n distinct GPUs', () => {
    const s = new GpuSlots(['0', '1', '2'], 1);
    expect(s.acquire(1)).toEqual(['0']);
    expect(s.acquire(2)).toEqual(['1', '2']);
    expect(s.acquire(1)).toBeUndefined();
  });
  it('says when a task can never run here', () => {
    expect(new GpuSlots([], 1).unsatisfiable(1)).toMatch(/has none/);
    expect(new GpuSlots(['0'], 4).unsatisfiable(2)).toMatch(/needs 2 GPUs .* has 1/);
    expect(new GpuSlots(['0'], 4).unsatisfiable(1)).toBeUndefined();
    expect(() => new GpuSlots(['0'], 0)).toThrow(/positive integer/);
  });
});
