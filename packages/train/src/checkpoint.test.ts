import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { needs, pythonPath, pytorch } from '@lw/core/testing/system-parts';
import { listCheckpoints, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { decodeHalf, encodeHalf, fromHalfBits, toHalfBits } from './half.js';
import { readTensorFile, writeTensorFile } from './tensor-file.js';
import { tempDir } from './testing/fixtures.js';

const PYTHON = pythonPath();
const READER = fileURLToPath(new URL('../fixtures/read_checkpoint.py', import.meta.url));
const hasTorch = needs(pytorch);

function sample() {
  const m = new Float32Array([1.5, -2.25, 3]);
  const A = Float32Array.from({ length: 6 }, (_, i) => i / 8 - 0.25);
  return {
    info: { epoch: 4, optimizer: { kind: 'adamw' as const, step: 92 }, rows: [{ epoch: 4, test_loss: 29.1 }], earlyStopping: { best: 29.1, counter: 2 }, stopped: false },
    params: new Map([['blk.m', m], ['blk.delta_D_A', A]]),
    shapes: new Map([['blk.m', [3]], ['blk.delta_D_A', [2, 3]]]),
    optimizerState: new Map([['exp_avg.blk.m', m.map((x) => x / 10)], ['exp_avg_sq.blk.m', m.map((x) => x * x)], ['exp_avg.blk.delta_D_A', A], ['exp_avg_sq.blk.delta_D_A', A.map((x) => x * x)]]),
  };
}

describe('checkpoints', () => {
  it('round-trip params, optimiser state and info; only complete ones are listed', () => {
    const dir = tempDir();
    writeCheckpoint(dir, sample());
    expect(listCheckpoints(dir)).toEqual([4]);
    const back = readCheckpoint(dir, 4);
    expect(back.info).toEqual(sample().info);
    expect(back.params).toEqual(sample().params);
    expect(back.shapes).toEqual(sample().shapes);
    expect(back.optimizerState).toEqual(sample().optimizerState);
    expect(() => readCheckpoint(dir, 5)).toThrow(/no checkpoint for epoch 5 in .*epoch5.safetensors and epoch5.json/);
  });

  it.runIf(hasTorch)('load in a second reader (Python: json + struct + numpy, into torch)', () => {
    const dir = tempDir();
    writeCheckpoint(dir, sample());
    const out = JSON.parse(execFileSync(PYTHON, [READER, join(dir, 'epoch4.safetensors')], { encoding: 'utf8' }));
    expect(out.metadata).toEqual({ format: 'lw-checkpoint/1', epoch: '4', optimizer: 'adamw', step: '92' });
    expect(Object.keys(out.tensors).sort()).toEqual([
      'adam.exp_avg.blk.delta_D_A', 'adam.exp_avg.blk.m', 'adam.exp_avg_sq.blk.delta_D_A', 'adam.exp_avg_sq.blk.m', 'param.blk.delta_D_A', 'param.blk.m',
    ]);
    expect(out.tensors['param.blk.delta_D_A']).toEqual({ dtype: 'torch.float32', shape: [2, 3], sum: 0.375, first: -0.25 });
    expect(out.tensors['param.blk.m']).toEqual({ dtype: 'torch.float32', shape: [3], sum: 2.25, first: 1.5 });
    expect(out.tensors['adam.exp_avg_sq.blk.m'].shape).toEqual([3]);
  });
});

describe('float16 storage', () => {
  it('encodes exactly representable values exactly and rounds to nearest even', () => {
    for (const [x, bits] of [[0, 0], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [2 ** -24, 1], [0.5, 0x3800]] as const) {
      expect(toHalfBits(x)).toBe(bits);
      expect(fromHalfBits(bits)).toBe(x);
    }
    // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1)
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00);
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toHalfBits(1e6)).toBe(0x7c00);
    expect(Number.isNaN(fromHalfBits(toHalfBits(NaN)))).toBe(true);
  });
  it('keeps the relative error of normal values within 2^-11, readable by numpy', () => {
    const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10 ** ((i % 7) - 3));
    const back = decodeHalf(encodeHalf(x));
    for (let i = 0; i < x.length; i++) if (Math.abs(x[i]) >= 2 ** -14) expect(Math.abs(back[i] - x[i]) / Math.abs(x[i])).toBeLessThanOrEqual(2 ** -11);
    const dir = tempDir();
    writeTensorFile(join(dir, 'h.safetensors'), new Map([['prefix', { dtype: 'F16', shape: [10, 100], data: encodeHalf(x) }]]));
    expect(readTensorFile(join(dir, 'h.safetensors')).tensors.get('prefix')!.shape).toEqual([10, 100]);
    if (hasTorch) {
      const out = JSON.parse(execFileSync(PYTHON, [READER, join(dir, 'h.safetensors')], { encoding: 'utf8' }));
      expect(out.tensors.prefix.dtype).toBe('torch.float16');
      expect(out.tensors.prefix.sum).toBeCloseTo(back.reduce((a, b) => a + b, 0), 2);
    }
  });
});
