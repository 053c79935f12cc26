import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sharedDir } from '@lw/core';
import { writeFeaturesArrow, writeRdmArrow } from './arrow-io.js';
import { loadFeatures, loadHumanRdm } from './load.js';
import { readMat, readNpy } from '@lw/core';
import { upperTriangle } from './rdm.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const ref = JSON.parse(readFileSync(fixture('scipy_reference.json'), 'utf8'));
const things = join(sharedDir(), 'data', 'things');
const tmp = () => mkdtempSync(join(tmpdir(), 'lw-eval-'));

function message(fn: () => unknown): string {
  try { fn(); } catch (e) { return (e as Error).message; }
  throw new Error('expected a throw');
}

describe('MAT v5 reader', () => {
  it('reads uncompressed and zlib-compressed files written by scipy.io.savemat', () => {
    const plain = readMat(readFileSync(fixture('two_vars.mat')));
    const rdm = plain.find((a) => a.name === 'rdm6')!;
    expect(rdm.dims).toEqual([6, 6]);
    expect(Array.from(rdm.data!)).toEqual(ref.loader_rdm6);
    const label = plain.find((a) => a.name === 'label')!;
    expect(label.className).toBe('char');
    expect(String.fromCharCode(...label.data!)).toBe('six stimuli');
    const packed = readMat(readFileSync(fixture('two_vars_compressed.mat')));
    expect(Array.from(packed.find((a) => a.name === 'rdm6')!.data!)).toEqual(ref.loader_rdm6);
    // int16 2x3 np.arange(6): row-major back from MATLAB's column-major
    expect(Array.from(packed.find((a) => a.name === 'ints')!.data!)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('reads the study\'s RDM48_triplet.mat (cells and totals checked against scipy.io.loadmat)', () => {
    const human = loadHumanRdm(join(things, 'RDM48_triplet.mat'));
    expect(human.n).toBe(48);
    expect(human.upper.reduce((a, b) => a + b, 0)).toBeCloseTo(ref.things.human_upper_sum, 9);
    expect(new Set(human.upper).size).toBe(ref.things.human_distinct);
    const [i, j, v] = ref.things.human_cells[1];
    expect(human.upper[i * 48 - (i * (i + 1)) / 2 + (j - i - 1)]).toBe(v);
  });

  it('names the variables when asked for a missing one, and rejects a non-MAT file', () => {
    expect(message(() => loadHumanRdm(fixture('two_vars.mat'), { variable: 'nope' })))
      .toMatch(/two_vars\.mat: no variable "nope"; variables: rdm6 \(double 6x6\), label \(char 1x11\)/);
    expect(message(() => loadHumanRdm(fixture('two_vars_compressed.mat')))).toMatch(/several numeric variables/);
    const d = tmp();
    writeFileSync(join(d, 'bad.mat'), 'x'.repeat(200));
    expect(message(() => loadHumanRdm(join(d, 'bad.mat')))).toMatch(/bad\.mat: not a MATLAB level-5 MAT file/);
  });
});

describe('.npy reader', () => {
  it('reads float64 C order and float32 Fortran order identically', () => {
    const c = readNpy(readFileSync(fixture('rdm_c_f8.npy')));
    expect(c.shape).toEqual([6, 6]);
    expect(Array.from(c.data)).toEqual(ref.loader_rdm6);
    const f = readNpy(readFileSync(fixture('rdm_fortran_f4.npy')));
    f.data.forEach((v, k) => expect(v).toBeCloseTo(ref.loader_rdm6[k], 6));
    expect(loadHumanRdm(fixture('rdm_fortran_f4.npy')).n).toBe(6);
  });
});

describe('CSV and Arrow loaders', () => {
  it('reads SPoSE-layout features (pandas index skipped, image_name as ids)', () => {
    const f = loadFeatures(join(things, 'spose_embedding66d_rescaled_48val_reordered.csv'));
    expect([f.n, f.d]).toEqual([48, 66]);
    expect(f.ids![0]).toBe('pizza_01b.jpg');
    expect(f.features[1]).toBeCloseTo(82.18026982931228, 12);
  });

  it('reads plain numeric CSV with and without a header, and names a bad cell by line and column', () => {
    const d = tmp();
    writeFileSync(join(d, 'plain.csv'), '1,2\n3,4\n\n5,6\n');
    expect(loadFeatures(join(d, 'plain.csv'))).toMatchObject({ n: 3, d: 2, features: Float64Array.from([1, 2, 3, 4, 5, 6]) });
    writeFileSync(join(d, 'head.csv'), 'a,b\n1,2\n3,x\n');
    expect(message(() => loadFeatures(join(d, 'head.csv')))).toBe(`${join(d, 'head.csv')}: line 3, column 2 ("b"): "x" is not a number`);
    writeFileSync(join(d, 'ragged.csv'), '1,2\n3\n');
    expect(message(() => loadFeatures(join(d, 'ragged.csv')))).toMatch(/ragged\.csv: line 2 has 1 fields, the first line has 2/);
  });

  it('reads a CSV RDM with a header of stimulus names and rejects an asymmetric one', () => {
    const d = tmp();
    writeFileSync(join(d, 'rdm.csv'), 'a,b,c\n0,1,2\n1,0,3\n2,3,0\n');
    const h = loadHumanRdm(join(d, 'rdm.csv'));
    expect(Array.from(h.upper)).toEqual([1, 2, 3]);
    expect(h.ids).toEqual(['a', 'b', 'c']);
    writeFileSync(join(d, 'asym.csv'), '0,1,2\n1,0,3\n2,3.5,0\n');
    expect(message(() => loadHumanRdm(join(d, 'asym.csv')))).toMatch(/asym\.csv: RDM is not symmetric: cell \(row 2, column 3\) is 3/);
  });

  it('round-trips Arrow features (Float32) and human_rdm.arrow', () => {
    const d = tmp();
    writeFeaturesArrow(join(d, 'f.arrow'), ['a', 'b', 'c'], Float32Array.from([1, 2, 3, 4, 5, 6]), 2);
    expect(loadFeatures(join(d, 'f.arrow'))).toEqual({ features: Float64Array.from([1, 2, 3, 4, 5, 6]), n: 3, d: 2, ids: ['a', 'b', 'c'] });
    const full = Float64Array.from(ref.loader_rdm6);
    writeRdmArrow(join(d, 'human_rdm.arrow'), ['s1', 's2', 's3', 's4', 's5', 's6'], full);
    const h = loadHumanRdm(join(d, 'human_rdm.arrow'));
    expect(h.ids![5]).toBe('s6');
    expect(h.upper).toEqual(upperTriangle(full, 6));
    expect(message(() => loadFeatures(join(d, 'human_rdm.arrow')))).toMatch(/no column "features" \(columns: id, rdm\)/);
  });
});
