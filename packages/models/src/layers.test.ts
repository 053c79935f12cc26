import { describe, expect, it } from 'vitest';
import { activation, blockSpecs, blockWeights, causalMask, columnNorms, embedRows, initBackend, initParams, layerNorm, linear, matMulPlain, residualBlock, residualBlockAt, selectRows, tf, unitRows, vitBlockNames } from './index.js';
import { lcg, maxRelErr } from './test_util.js';

// The custom-gradient ops against tfjs' own autodiff of the same formulas.
describe('custom-gradient layers', () => {
  const x = tf.tensor2d(lcg(11, 6 * 5), [6, 5]).mul(4) as tf.Tensor2D;
  const dy = tf.tensor2d(lcg(12, 6 * 5), [6, 5]);

  it('QuickGELU and exact GELU: values and gradients', () => {
    const reference = {
      quick_gelu: (t: tf.Tensor) => tf.mul(t, tf.sigmoid(tf.mul(t, 1.702))),
      gelu: (t: tf.Tensor) => tf.mul(tf.mul(t, 0.5), tf.add(1, tf.erf(tf.mul(t, Math.SQRT1_2)))),
    };
    for (const kind of ['quick_gelu', 'gelu'] as const) {
      expect(maxRelErr(activation(x, kind).dataSync(), reference[kind](x).dataSync()), kind).toBeLessThan(1e-6);
      const ours = tf.grad((t: tf.Tensor) => activation(t, kind))(x, dy).dataSync();
      const theirs = tf.grad((t: tf.Tensor) => reference[kind](t))(x, dy).dataSync();
      expect(maxRelErr(ours, theirs), kind).toBeLessThan(1e-5);
    }
  });

  it('linear (trainable and frozen) and matMulPlain: gradients equal tf.matMul autodiff', () => {
    const w = tf.tensor2d(lcg(13, 4 * 5), [4, 5]), b = tf.tensor1d(lcg(14, 4));
    const g = tf.tensor2d(lcg(15, 6 * 4), [6, 4]);
    const ref = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.add(tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D, false, true), bb))([x, w, b], g);
    const ours = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => linear(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D, true))([x, w, b], g);
    ref.forEach((r, i) => expect(maxRelErr(ours[i].dataSync(), r.dataSync())).toBeLessThan(1e-6));
    const frozenDx = tf.grad((xx: tf.Tensor) => linear(xx as tf.Tensor2D, w, b, false))(x, g);
    expect(maxRelErr(frozenDx.dataSync(), ref[0].dataSync())).toBeLessThan(1e-6);

    const a3 = tf.tensor3d(lcg(16, 2 * 3 * 4), [2, 3, 4]), b3 = tf.tensor3d(lcg(17, 2 * 4 * 5), [2, 4, 5]);
    const g3 = tf.tensor3d(lcg(18, 2 * 3 * 5), [2, 3, 5]);
    const r3 = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p as tf.Tensor3D, q as tf.Tensor3D))([a3, b3], g3);
    const o3 = tf.grads((p: tf.Tensor, q: tf.Tensor) => matMulPlain(p as tf.Tensor3D, q as tf.Tensor3D))([a3, b3], g3);
    r3.forEach((r, i) => expect(maxRelErr(o3[i].dataSync(), r.dataSync())).toBeLessThan(1e-6));
  });

  it('layerNorm: values and the gradients of x, gamma and beta equal autodiff of the composed formula', () => {
    const x3 = tf.tensor3d(lcg(21, 2 * 3 * 5), [2, 3, 5]).mul(3).add(1);
    const gamma = tf.tensor1d(lcg(22, 5)).add(1), beta = tf.tensor1d(lcg(23, 5));
    const g = tf.tensor3d(lcg(24, 2 * 3 * 5), [2, 3, 5]);
    const composed = (t: tf.Tensor, ga: tf.Tensor, be: tf.Tensor) => {
      const xc = tf.sub(t, tf.mean(t, -1, true));
      return tf.add(tf.mul(tf.div(xc, tf.sqrt(tf.add(tf.mean(tf.square(xc), -1, true), 1e-5))), ga), be);
    };
    const ours = (t: tf.Tensor, ga: tf.Tensor, be: tf.Tensor) => layerNorm(t, ga as tf.Tensor1D, be as tf.Tensor1D, 1e-5);
    expect(maxRelErr(ours(x3, gamma, beta).dataSync(), composed(x3, gamma, beta).dataSync())).toBeLessThan(1e-6);
    const r = tf.grads(composed)([x3, gamma, beta], g);
    const o = tf.grads(ours)([x3, gamma, beta], g);
    r.forEach((ri, i) => expect(maxRelErr(o[i].dataSync(), ri.dataSync()), `input ${i}`).toBeLessThan(1e-5));
    // frozen gamma/beta (paramGrads false): the same value and the same dx
    const frozen = (t: tf.Tensor) => layerNorm(t, gamma, beta, 1e-5, false);
    expect(maxRelErr(frozen(x3).dataSync(), composed(x3, gamma, beta).dataSync())).toBeLessThan(1e-6);
    expect(maxRelErr(tf.grad(frozen)(x3, g).dataSync(), r[0].dataSync())).toBeLessThan(1e-5);
    // the gradient of a LayerNorm output w.r.t. x sums to zero over each row (shift invariance)
    const rowSums = tf.sum(o[0], -1).dataSync();
    for (const v of rowSums) expect(Math.abs(v)).toBeLessThan(1e-5);
  });

  it('columnNorms and unitRows: values and gradients equal autodiff of the composed formulas', () => {
    const m = tf.tensor2d(lcg(31, 7 * 4), [7, 4]).mul(2);
    const g1 = tf.tensor1d(lcg(32, 4)), g2 = tf.tensor2d(lcg(33, 7 * 4), [7, 4]);
    const colRef = (t: tf.Tensor) => tf.sqrt(tf.sum(tf.square(t), 0));
    const rowRef = (t: tf.Tensor) => tf.div(t, tf.norm(t, 'euclidean', 1, true));
    expect(maxRelErr(columnNorms(m as tf.Tensor2D).dataSync(), colRef(m).dataSync())).toBeLessThan(1e-6);
    expect(maxRelErr(unitRows(m as tf.Tensor2D).dataSync(), rowRef(m).dataSync())).toBeLessThan(1e-6);
    expect(maxRelErr(tf.grad((t: tf.Tensor) => columnNorms(t as tf.Tensor2D))(m, g1).dataSync(), tf.grad(colRef)(m, g1).dataSync())).toBeLessThan(1e-5);
    expect(maxRelErr(tf.grad((t: tf.Tensor) => unitRows(t as tf.Tensor2D))(m, g2).dataSync(), tf.grad(rowRef)(m, g2).dataSync())).toBeLessThan(1e-5);
  });
});

describe('blockWeights', () => {
  it('prepares the frozen linears of a block with trainables once, with the same outputs and gradients as the plain path', () => {
    const names = vitBlockNames('clip', 'visual.', 0);
    const params = initParams(blockSpecs('clip', names, 8, 16, 1), 5, false);
    // Make out_proj trainable (as DoRA's computed weight is): the block now runs every training step.
    const outW = tf.variable(params.tensors.get(names.out[0])!, true);
    params.tensors.set(names.out[0], outW);
    const shape = { heads: 2, lnEps: 1e-5, activation: 'quick_gelu' as const };
    const x = tf.tensor3d(lcg(41, 2 * 3 * 8), [2, 3, 8]);
    const w1 = blockWeights(params, names);
    expect(Object.keys(w1.frozen ?? {}).sort()).toEqual(['fc1', 'fc2', 'k', 'q', 'v']);
    expect(blockWeights(params, names).frozen!.q!.wT).toBe(w1.frozen!.q!.wT); // made once, then kept
    expect(w1.frozen!.k!.wT.shape).toEqual([8, 8]);
    expect(Array.from(w1.frozen!.k!.b.dataSync())).toEqual(Array.from(params.tensors.get(names.qkv[1])!.dataSync().slice(8, 16)));
    const plain = { ...w1, frozen: undefined };
    const run = (w: typeof w1) => tf.variableGrads(() => tf.sum(tf.square(residualBlock(x, w, shape))) as tf.Scalar, [outW]);
    const a = run(w1), b = run(plain);
    expect(maxRelErr(a.value.dataSync(), b.value.dataSync())).toBeLessThan(1e-6);
    expect(maxRelErr(a.grads[outW.name].dataSync(), b.grads[outW.name].dataSync())).toBeLessThan(1e-6);
    // A fully frozen block (a cached prefix) is not prepared: its weights are not doubled.
    const names2 = vitBlockNames('clip', 'visual.', 1);
    const frozenParams = initParams(blockSpecs('clip', names2, 8, 16, 2), 5, false);
    expect(blockWeights(frozenParams, names2).frozen).toBeUndefined();
    const kept = w1.frozen!.fc1!.wT;
    params.dispose();
    expect(kept.isDisposed).toBe(true);
    frozenParams.dispose();
  });
});

describe('selectRows (the EOT rows of the text tower)', () => {
  it('takes row rows[p] of each x[p], and its gradient puts dy back at exactly those rows', () => {
    const x = tf.tensor3d(lcg(61, 3 * 4 * 2), [3, 4, 2]);
    const rows = [2, 0, 3];
    const xs = x.arraySync();
    expect(selectRows(x, rows).arraySync()).toEqual(rows.map((r, p) => xs[p][r]));
    const dy = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(selectRows(t, rows), dy)))(x).arraySync() as number[][][];
    const expected = [0, 1, 2].map((p) => [0, 1, 2, 3].map((r) => (r === rows[p] ? [2 * p + 1, 2 * p + 2] : [0, 0])));
    expect(dx).toEqual(expected);
  });
});

describe('residualBlockAt (a last block read at one token per sequence)', () => {
  // Every weight trainable (the ViT arm) and only out_proj trainable (CLIP-HBA: frozen linears prepared).
  for (const allTrainable of [true, false]) {
    it(`equals the whole block's rows at those positions, values and gradients (${allTrainable ? 'all weights trainable' : 'out_proj trainable'}), with and without a causal mask`, () => {
      const names = vitBlockNames('clip', '', 0);
      const params = initParams(blockSpecs('clip', names, 8, 16, 1), 7, allTrainable);
      if (!allTrainable) params.tensors.set(names.out[0], tf.variable(params.tensors.get(names.out[0])!, true));
      const vars = [...params.tensors.values()].filter((t): t is tf.Variable => t instanceof tf.Variable);
      const x = tf.tensor3d(lcg(71, 3 * 5 * 8), [3, 5, 8]).mul(2) as tf.Tensor3D;
      const dy = tf.tensor2d(lcg(72, 3 * 8), [3, 8]);
      const at = [4, 0, 2];
      for (const mask of [undefined, causalMask(6)]) {
        const shape = { heads: 2, lnEps: 1e-5, activation: 'quick_gelu' as const, mask };
        const w = blockWeights(params, names);
        const loss = (f: (t: tf.Tensor3D) => tf.Tensor) => (t: tf.Tensor3D) => tf.sum(tf.mul(f(t), dy)) as tf.Scalar;
        const ours = (t: tf.Tensor3D) => residualBlockAt(t, w, shape, at);
        const whole = (t: tf.Tensor3D) => selectRows(residualBlock(t, w, shape), at);
        expect(ours(x).shape).toEqual([3, 8]);
        expect(maxRelErr(ours(x).dataSync(), whole(x).dataSync())).toBeLessThan(1e-6);
        expect(maxRelErr(tf.grad(loss(ours))(x).dataSync(), tf.grad(loss(whole))(x).dataSync())).toBeLessThan(1e-5);
        const a = tf.variableGrads(() => loss(ours)(x), vars), b = tf.variableGrads(() => loss(whole)(x), vars);
        for (const v of vars) expect(maxRelErr(a.grads[v.name].dataSync(), b.grads[v.name].dataSync()), v.name).toBeLessThan(1e-5);
        // The positions matter: another choice of rows gives other values.
        expect(maxRelErr(residualBlockAt(x, w, shape, [3, 1, 2]).dataSync(), ours(x).dataSync())).toBeGreaterThan(1e-2);
      }
      params.dispose();
    });
  }
});

describe('embedRows (token embeddings)', () => {
  // On wasm too: its float32 OneHot is broken (writes 1's integer bit pattern), which once zeroed this gradient.
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`gathers rows, and its gradient adds dy into each id's row, repeated ids summed (${backend})`, async () => {
      await initBackend({ backend });
      const table = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]);
      const ids = tf.tensor1d([2, 0, 2, 3], 'int32');
      expect(embedRows(table, ids, true).arraySync()).toEqual([[5, 6], [1, 2], [5, 6], [7, 8]]);
      const dy = tf.tensor2d([1, 10, 2, 20, 3, 30, 4, 40], [4, 2]);
      const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(embedRows(t as tf.Tensor2D, ids, true), dy)))(table);
      // row 0 <- dy[1]; row 1 untouched; row 2 <- dy[0] + dy[2]; row 3 <- dy[3]
      expect(grad.arraySync()).toEqual([[2, 20], [0, 0], [4, 40], [4, 40]]);
      await initBackend({ backend: 'cpu' });
    });
  }
});
