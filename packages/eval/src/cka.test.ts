import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng, isUserError, sharedDir } from '@lw/core';
import { cka, ckaLayers, ckaMatrix, rbfBandwidth, type CkaOptions, type FeatureMatrix } from './cka.js';
import { loadFeatures } from './load.js';

const ref = JSON.parse(readFileSync(new URL('../fixtures/cka/reference.json', import.meta.url), 'utf8'));
const things = join(sharedDir(), 'data', 'things');

const m = (features: ArrayLike<number>, n: number, d: number, name?: string): FeatureMatrix => ({ features, n, d, name });

function random(seed: number, n: number, d: number): FeatureMatrix {
  return m(new Rng(seed, 'cka-test').normals(n * d, 0, 1), n, d);
}

/** X [n, d] times R [d, e]. */
function times(x: FeatureMatrix, r: ArrayLike<number>, e: number): FeatureMatrix {
  const out = new Float64Array(x.n * e);
  for (let i = 0; i < x.n; i++) for (let j = 0; j < e; j++) {
    let s = 0;
    for (let k = 0; k < x.d; k++) s += x.features[i * x.d + k] * r[k * e + j];
    out[i * e + j] = s;
  }
  return m(out, x.n, e);
}

/** A random d x d orthogonal matrix (Gram-Schmidt of a Gaussian matrix). */
function orthogonal(seed: number, d: number): Float64Array {
  const a = new Rng(seed, 'orthogonal').normals(d * d, 0, 1);
  const q = new Float64Array(d * d);
  for (let c = 0; c < d; c++) {
    const v = Array.from({ length: d }, (_, r) => a[r * d + c]);
    for (let p = 0; p < c; p++) {
      let dot = 0;
      for (let r = 0; r < d; r++) dot += v[r] * q[r * d + p];
      for (let r = 0; r < d; r++) v[r] -= dot * q[r * d + p];
    }
    const norm = Math.hypot(...v);
    for (let r = 0; r < d; r++) q[r * d + c] = v[r] / norm;
  }
  return q;
}

const settings: CkaOptions[] = [{ kernel: 'linear' }, { kernel: 'rbf' }, { kernel: 'linear', unbiased: true }, { kernel: 'rbf', unbiased: true, sigma: 0.4 }];

describe('CKA closed forms', () => {
  const x = random(1, 15, 6);
  const y = times(x, new Rng(2, 'map').normals(6 * 4, 0, 1), 4);
  const noise = new Rng(3, 'noise').normals(y.features.length, 0, 0.7);
  for (let p = 0; p < y.features.length; p++) (y.features as Float64Array)[p] += noise[p];

  it('CKA(X, X) = 1 for every kernel and estimator', () => {
    for (const o of settings) expect(Math.abs(cka(x, x, o).cka - 1)).toBeLessThan(1e-14);
  });

  it('linear CKA is invariant to orthogonal transforms, isotropic scaling and translation; RBF with a relative bandwidth too', () => {
    const q = orthogonal(4, 6);
    const moved = times(x, q, 6);
    const scaled = m(Float64Array.from(moved.features, (v, k) => 3.7 * v + (k % 6) * 10), 15, 6);
    for (const o of settings) {
      const base = cka(x, y, o).cka;
      expect(Math.abs(cka(moved, y, o).cka - base)).toBeLessThan(1e-12);
      expect(Math.abs(cka(scaled, y, o).cka - base)).toBeLessThan(1e-12);
    }
  });

  it('linear CKA equals ||Y_c\' X_c||_F^2 / (||X_c\' X_c||_F ||Y_c\' Y_c||_F)', () => {
    const centre = (f: FeatureMatrix) => {
      const out = Float64Array.from(f.features);
      for (let k = 0; k < f.d; k++) {
        let s = 0;
        for (let i = 0; i < f.n; i++) s += out[i * f.d + k];
        for (let i = 0; i < f.n; i++) out[i * f.d + k] -= s / f.n;
      }
      return out;
    };
    const xc = centre(x), yc = centre(y);
    const cross = (a: Float64Array, da: number, b: Float64Array, db: number) => {
      let s = 0;
      for (let p = 0; p < da; p++) for (let q = 0; q < db; q++) {
        let t = 0;
        for (let i = 0; i < 15; i++) t += a[i * da + p] * b[i * db + q];
        s += t * t;
      }
      return s;
    };
    const expected = cross(yc, 4, xc, 6) / Math.sqrt(cross(xc, 6, xc, 6) * cross(yc, 4, yc, 4));
    expect(Math.abs(cka(x, y).cka - expected)).toBeLessThan(1e-13);
  });

  it('RBF CKA with a huge bandwidth approaches linear CKA', () => {
    const linear = cka(x, y).cka;
    expect(Math.abs(cka(x, y, { kernel: 'rbf', sigma: 1000 }).cka - linear)).toBeLessThan(1e-5);
    expect(Math.abs(cka(x, y, { kernel: 'rbf', sigma: 0.8 }).cka - linear)).toBeGreaterThan(1e-3);
  });

  it('a 3 x 2 example by hand: 3 / (2 sqrt 10)', () => {
    // X = [[0,0],[1,0],[0,1]], Y = [0,1,2]'. Centred: X_c = [[-1,-1],[2,-1],[-1,2]]/3, Y_c = [-1,0,1]'.
    // Y_c'X_c = [0, 1] -> 1; X_c'X_c = [[2/3,-1/3],[-1/3,2/3]] -> ||.||_F = sqrt(10)/3; Y_c'Y_c = 2.
    const r = cka(m([0, 0, 1, 0, 0, 1], 3, 2), m([0, 1, 2], 3, 1));
    expect(Math.abs(r.cka - 3 / (2 * Math.sqrt(10)))).toBeLessThan(1e-15);
    expect(r).toMatchObject({ kernel: 'linear', unbiased: false, n: 3 });
  });

  it('states the RBF bandwidth: the fraction and each side\'s sigma in feature units (Kornblith\'s gram_rbf convention)', () => {
    // 3 points on a line at 0, 1, 3: squared distances 1, 9, 4 (each twice) and 3 zeros -> median of 9 values = 1.
    const line = m([0, 1, 3], 3, 1);
    expect(rbfBandwidth(line, 1)).toBe(1);
    const r = cka(line, m([0, 2, 6], 3, 1), { kernel: 'rbf' });
    expect(r).toMatchObject({ kernel: 'rbf', sigma: 0.8, sigmaX: 0.8, sigmaY: 1.6 });
    expect(Math.abs(r.cka - 1)).toBeLessThan(1e-14);
    expect(cka(line, m([0, 2, 6], 3, 1), { kernel: 'rbf', sigmaAbsolute: 2 })).toMatchObject({ sigmaX: 2, sigmaY: 2 });
  });
});

describe('CKA against the float64 numpy reference (fixtures/cka/make.py)', () => {
  for (const c of ref.cases) {
    it(c.name, () => {
      const x = m(c.x, c.n, c.dx), y = m(c.y, c.n, c.dy);
      for (const r of c.results) {
        const got = cka(x, y, r.options);
        expect(Math.abs(got.cka - r.cka), JSON.stringify(r.options)).toBeLessThan(1e-10);
        if (r.sigmaX !== undefined) {
          expect(Math.abs(got.sigmaX! - r.sigmaX)).toBeLessThan(1e-10 * r.sigmaX);
          expect(Math.abs(got.sigmaY! - r.sigmaY)).toBeLessThan(1e-10 * r.sigmaY);
        }
      }
      expect(Math.abs(cka(x, y).cka - c.linear_feature_space)).toBeLessThan(1e-10);
    });
  }

  it('ckaMatrix between layers', () => {
    const { n, dims, features, matrix } = ref.layers;
    const layers = dims.map((d: number, i: number) => m(features[i], n, d, `block${i}`));
    for (const [key, options] of [['linear', {}], ['rbf', { kernel: 'rbf' }], ['linear-unbiased', { unbiased: true }]] as const) {
      const out = ckaMatrix(layers, options as CkaOptions);
      expect(out.names).toEqual(['block0', 'block1', 'block2']);
      matrix[key].flat().forEach((v: number, k: number) => expect(Math.abs(out.matrix[k] - v), `${key} ${k}`).toBeLessThan(1e-10));
    }
    expect(ckaMatrix(layers, { kernel: 'rbf' }).sigmas).toHaveLength(3);
  });
});

describe('CKA input errors', () => {
  const x = random(5, 6, 3);
  const error = (fn: () => unknown) => {
    try { fn(); } catch (e) { expect(isUserError(e)).toBe(true); return (e as Error).message; }
    throw new Error('expected a throw');
  };

  it('names mismatched rows, too few stimuli, NaN and constant features', () => {
    expect(error(() => cka(m(x.features, 6, 3, 'a.arrow'), m(new Float64Array(10), 5, 2, 'b.arrow'))))
      .toBe('CKA: a.arrow has 6 rows (stimuli) but b.arrow has 5');
    expect(error(() => cka(m([1, 2, 3], 3, 1, 'a'), m([1, 5, 2], 3, 1), { unbiased: true }))).toBe('a: 3 stimuli; unbiased CKA needs at least 4');
    const nan = Float64Array.from(x.features); nan[7] = NaN;
    expect(error(() => cka({ features: nan, n: 6, d: 3, name: 'f', ids: ['a', 'b', 'c', 'd', 'e', 'f'] }, x))).toBe('f: row 3 of 6 (c) has NaN at feature 2 of 3');
    expect(error(() => cka(m(new Float64Array(18).fill(2), 6, 3, 'flat'), x)))
      .toBe('flat: every one of the 6 stimuli has the same features, so its centred Gram matrix is 0 and CKA is 0/0');
    expect(error(() => cka(m([1, 1, 1, 1, 2], 5, 1, 'dup'), m([1, 2, 3, 4, 5], 5, 1), { kernel: 'rbf' }))).toMatch(/^dup: the median distance between its 5 stimuli is 0/);
    expect(error(() => cka(x, x, { kernel: 'rbf', sigma: -1 }))).toMatch(/sigma -1 is not a positive number/);
  });
});

describe('CKA on the study\'s SPoSE embedding', () => {
  const spose = loadFeatures(join(things, 'spose_embedding66d_rescaled_48val_reordered.csv'));
  const human = m(spose.features, 48, 66, 'spose');

  it('falls as noise is added, for both kernels, and ckaLayers matches cka', () => {
    const noisy = [10, 40, 160].map((s, i) => {
      const noise = new Rng(7, 'n', i).normals(48 * 66, 0, s);
      return m(Float64Array.from(spose.features, (v, k) => v + noise[k]), 48, 66, `noise${s}`);
    });
    for (const kernel of ['linear', 'rbf'] as const) {
      const out = ckaLayers(noisy, human, { kernel });
      expect(out.map((o) => o.name)).toEqual(['noise10', 'noise40', 'noise160']);
      expect(out[0].cka).toBeGreaterThan(out[1].cka);
      expect(out[1].cka).toBeGreaterThan(out[2].cka);
      expect(out[0].cka).toBe(cka(noisy[0], human, { kernel }).cka);
    }
  });
});
