import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isUserError } from '@lw/core';
import { computeRdm, correlationRdm, pairIndex, pairwiseDissimilarities, sizeOfRdm, squareForm, upperTriangle, validateRdm } from './rdm.js';

const ref = JSON.parse(readFileSync(new URL('../fixtures/scipy_reference.json', import.meta.url), 'utf8'));

function thrown(fn: () => void): Error {
  try { fn(); } catch (e) { return e as Error; }
  throw new Error('expected a throw');
}

describe('RDMs', () => {
  it('match scipy.spatial.distance.pdist for correlation, cosine and euclidean', () => {
    const { features, n, d } = ref.pdist;
    for (const metric of ['correlation', 'cosine', 'euclidean'] as const) {
      const got = pairwiseDissimilarities(features, n, d, metric);
      expect(got.length).toBe(21);
      got.forEach((v, k) => expect(v, `${metric}[${k}]`).toBeCloseTo(ref.pdist[metric][k], 13));
    }
  });

  it('correlationRdm equals 1 - np.corrcoef with zero diagonal', () => {
    const { features, n, d, corrcoef_rdm } = ref.pdist;
    correlationRdm(new Float32Array(features), n, d).forEach((v, k) => expect(v).toBeCloseTo(corrcoef_rdm[k], 6));
    correlationRdm(features, n, d).forEach((v, k) => expect(v).toBeCloseTo(corrcoef_rdm[k], 13));
  });

  it('closed forms: orthogonal unit vectors have cosine 1 and euclidean sqrt(2); anti-correlated rows have correlation 2', () => {
    const f = [1, 0, 0, 1];
    expect(Array.from(computeRdm(f, 2, 2, 'cosine'))).toEqual([0, 1, 1, 0]);
    expect(computeRdm(f, 2, 2, 'euclidean')[1]).toBeCloseTo(Math.SQRT2, 15);
    expect(computeRdm([1, 2, 3, 3, 2, 1], 2, 3, 'correlation')[1]).toBeCloseTo(2, 15);
  });

  it('upper triangle is row-major i < j, and pairIndex/squareForm agree with it', () => {
    const full = Float64Array.from({ length: 16 }, (_, k) => k);
    expect(Array.from(upperTriangle(full, 4))).toEqual([1, 2, 3, 6, 7, 11]);
    expect([pairIndex(0, 1, 4), pairIndex(1, 3, 4), pairIndex(2, 3, 4)]).toEqual([0, 4, 5]);
    const sq = squareForm([1, 2, 3, 6, 7, 11], 4);
    expect(Array.from(upperTriangle(sq, 4))).toEqual([1, 2, 3, 6, 7, 11]);
    expect(sq[3 * 4 + 1]).toBe(7);
    expect(sizeOfRdm(16)).toEqual({ n: 4, square: true });
    expect(sizeOfRdm(1128)).toEqual({ n: 48, square: false });
    expect(sizeOfRdm(7)).toBeNull();
  });

  it('validation names the bad cell', () => {
    const good = squareForm([1, 2, 3], 3);
    expect(() => validateRdm(good, 3, 'h.csv')).not.toThrow();
    const asym = Float64Array.from(good); asym[0 * 3 + 2] = 2.5;
    const e1 = thrown(() => validateRdm(asym, 3, 'h.csv'));
    expect(isUserError(e1)).toBe(true);
    expect(e1.message).toBe('h.csv: RDM is not symmetric: cell (row 1, column 3) is 2.5 but (row 3, column 1) is 2');
    const diag = Float64Array.from(good); diag[4] = 0.1;
    expect(thrown(() => validateRdm(diag, 3, 'h.csv')).message).toContain('diagonal cell (row 2, column 2) is 0.1');
    const nan = Float64Array.from(good); nan[5] = NaN;
    expect(thrown(() => validateRdm(nan, 3, 'h.csv')).message).toContain('cell (row 2, column 3) is NaN');
  });
});
