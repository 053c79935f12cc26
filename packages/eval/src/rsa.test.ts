import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedDir } from '@lw/core';
import { loadFeatures, loadHumanRdm } from './load.js';
import { rsa, rsaLayers } from './rsa.js';
import { squareForm } from './rdm.js';

const ref = JSON.parse(readFileSync(new URL('../fixtures/scipy_reference.json', import.meta.url), 'utf8'));
const things = join(sharedDir(), 'data', 'things');

describe('rsa on the study\'s data', () => {
  const human = loadHumanRdm(join(things, 'RDM48_triplet.mat'));
  const spose = loadFeatures(join(things, 'spose_embedding66d_rescaled_48val_reordered.csv'));

  it('ground-truth SPoSE embeddings vs RDM48_triplet: rho as SciPy computes it (0.864), a strong correlation', () => {
    const r = rsa(spose.features, 48, 66, human);
    expect(r.nPairs).toBe(1128);
    expect(r.rho).toBeCloseTo(ref.things.spearman[0], 12);
    expect(r.rho).toBeGreaterThan(0.85);
    expect(r.rho).toBeLessThan(0.88);
    expect(r.p).toBe(ref.things.spearman[1]);
    const k = rsa(spose.features, 48, 66, human, { compare: 'kendall' });
    expect(k.rho).toBeCloseTo(ref.things.kendall[0], 12);
    expect(Math.abs(k.p / ref.things.kendall[1] - 1)).toBeLessThan(1e-8);
    expect(rsa(spose.features, 48, 66, human, { compare: 'pearson' }).rho).toBeCloseTo(ref.things.pearson[0], 12);
  });

  it('accepts the human RDM as a full matrix or an upper-triangle vector, and features as float32', () => {
    const a = rsa(Float32Array.from(spose.features), 48, 66, human.upper);
    const b = rsa(Float32Array.from(spose.features), 48, 66, squareForm(human.upper, 48));
    expect(a.rho).toBe(b.rho);
    expect(a.rho).toBeCloseTo(ref.things.spearman[0], 6);
  });

  it('adds a permutation p and a bootstrap CI when asked, reproducibly', () => {
    const r = rsa(spose.features, 48, 66, human, { permutations: 200, bootstrap: 200, seed: 3 });
    expect(r.pPerm).toBe(1 / 201);
    expect(r.ci![0]).toBeLessThan(r.rho);
    expect(r.ci![1]).toBeGreaterThan(r.rho);
    expect(r.ci![1]).toBeLessThanOrEqual(1);
    expect(rsa(spose.features, 48, 66, human, { permutations: 200, bootstrap: 200, seed: 3 })).toEqual(r);
  });

  it('scores layers in order, and a constant-feature layer gives NaN like SciPy', () => {
    const collapsed = new Float64Array(48 * 4).fill(1);
    const out = rsaLayers([
      { name: 'block11', features: spose.features, n: 48, d: 66 },
      { name: 'collapsed', features: collapsed, n: 48, d: 4 },
    ], human);
    expect(out.map((o) => o.name)).toEqual(['block11', 'collapsed']);
    expect(out[0].rho).toBeCloseTo(ref.things.spearman[0], 12);
    expect(out[1].rho).toBeNaN();
  });
});
