import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@lw/models';
import { empiricalFisherTrace, fisherParam, writeEpochMeasures } from './fisher.js';

/**
 * The reference: float64 torch autograd on a tiny tanh MLP (zoo/make.py, "Fisher"), per-sample squared
 * gradient norms and their mean for an MSE and a cross-entropy loss. The same MLP is built here in
 * tfjs (float32) from the reference's parameters.
 */
const reference = JSON.parse(readFileSync(new URL('../../models/fixtures/zoo/fisher/reference.json', import.meta.url), 'utf8')) as {
  params: Record<'w1' | 'b1' | 'w2' | 'b2', number[]>;
  shapes: Record<'w1' | 'b1' | 'w2' | 'b2', number[]>;
  x: number[][];
  y: number[][];
  labels: number[];
  mse: { per_sample: number[]; trace: number };
  cross_entropy: { per_sample: number[]; trace: number };
};

describe('empiricalFisherTrace', () => {
  let vars: Record<'w1' | 'b1' | 'w2' | 'b2', tf.Variable>;
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    const v = (k: 'w1' | 'b1' | 'w2' | 'b2') => tf.variable(tf.tensor(reference.params[k], reference.shapes[k]), true, `fisher_${k}`);
    vars = { w1: v('w1'), b1: v('b1'), w2: v('w2'), b2: v('b2') };
  });
  // [1, 5] -> [1, 3]: tanh(x @ w1 + b1) @ w2 + b2
  const mlp = (i: number) => tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(tf.tensor2d([reference.x[i]!]), vars.w1 as tf.Tensor2D), vars.b1)), vars.w2 as tf.Tensor2D), vars.b2) as tf.Tensor2D;
  const losses = {
    mse: (i: number) => tf.mean(tf.squaredDifference(mlp(i), tf.tensor2d([reference.y[i]!]))) as tf.Scalar,
    cross_entropy: (i: number) => tf.losses.softmaxCrossEntropy(tf.oneHot([reference.labels[i]!], 3), mlp(i)) as tf.Scalar,
  };

  it.each(['mse', 'cross_entropy'] as const)('matches the float64 torch reference for %s (1e-5 relative)', async (loss) => {
    const want = reference[loss];
    const got = await empiricalFisherTrace(Object.values(vars), reference.x.length, losses[loss]);
    expect(got.perSample).toHaveLength(want.per_sample.length);
    got.perSample.forEach((g, i) => expect(Math.abs(g - want.per_sample[i]!) / want.per_sample[i]!).toBeLessThan(1e-5));
    expect(Math.abs(got.trace - want.trace) / want.trace).toBeLessThan(1e-5);
  });

  it('frees its tensors', async () => {
    const before = tf.memory().numTensors;
    await empiricalFisherTrace(Object.values(vars), 3, losses.mse);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('parses the param: false or { probe: N }', () => {
    expect(fisherParam.parse(false)).toBe(false);
    expect(fisherParam.parse({ probe: 16 })).toEqual({ probe: 16 });
    expect(() => fisherParam.parse({ probe: 0 })).toThrow();
    expect(() => fisherParam.parse(true)).toThrow();
  });

  it('writes epoch_measures.csv and .arrow (epoch and probe Int32)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-fisher-'));
    writeEpochMeasures(dir, [{ epoch: 1, fisher_trace: 10.5, fisher_probe: 16 }, { epoch: 2, fisher_trace: 0.25, fisher_probe: 16 }]);
    expect(readFileSync(join(dir, 'epoch_measures.csv'), 'utf8')).toBe('epoch,fisher_trace,fisher_probe\n1,10.5,16\n2,0.25,16\n');
    const t = tableFromIPC(readFileSync(join(dir, 'epoch_measures.arrow')));
    expect(t.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(['epoch:Int32', 'fisher_trace:Float64', 'fisher_probe:Int32']);
    expect(() => writeEpochMeasures(dir, [{ epoch: 0, fisher_trace: 1, fisher_probe: 16 }])).toThrow(/epoch_measures row 0/);
  });
});
