import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng, isUserError, sharedDir } from '@lw/core';
import { writeFeaturesArrow } from './arrow-io.js';
import { cka, ckaMatrix } from './cka.js';
import { runCkaCommand } from './cka-command.js';
import { loadFeatures } from './load.js';

const things = join(sharedDir(), 'data', 'things');
const sposePath = join(things, 'spose_embedding66d_rescaled_48val_reordered.csv');

describe('lw cka', () => {
  const root = mkdtempSync(join(tmpdir(), 'lw-cka-cmd-'));
  const spose = loadFeatures(sposePath);
  const ids = spose.ids!;
  // Two "layers": SPoSE plus a little and plus a lot of noise, written as a model would (Arrow, float32).
  const layer = (sd: number, name: string) => {
    const noise = new Rng(5, name).normals(48 * 66, 0, sd);
    const f = Float32Array.from(spose.features, (v, k) => v + noise[k]);
    const path = join(root, `${name}.arrow`);
    writeFeaturesArrow(path, ids, f, 66);
    return { path, f };
  };
  const near = layer(0.5, 'near'), far = layer(5, 'far');

  it('compares each file with a reference file, as cka() does', () => {
    const lines: string[] = [];
    const out = runCkaCommand({ features: [near.path, far.path], reference: sposePath }, (l) => lines.push(l));
    if (out.mode !== 'reference') throw new Error('expected reference mode');
    const expected = [near.f, far.f].map((f) => cka({ features: f, n: 48, d: 66 }, spose).cka);
    expect(out.results.map((r) => r.cka)).toEqual(expected);
    expect(expected[0]).toBeGreaterThan(expected[1]);
    expect(lines[0]).toContain(`CKA (linear) with ${sposePath} [48 x 66]`);
    expect(lines[1]).toContain(`${near.path}: cka=${expected[0]}`);
  });

  it('prints the matrix between files as JSON with --json', () => {
    const lines: string[] = [];
    runCkaCommand({ features: [sposePath, near.path, far.path], kernel: 'rbf', sigma: 0.4, json: true }, (l) => lines.push(l));
    const json = JSON.parse(lines.at(-1)!);
    const m = ckaMatrix([{ ...spose }, { features: near.f, n: 48, d: 66 }, { features: far.f, n: 48, d: 66 }], { kernel: 'rbf', sigma: 0.4 });
    expect(json).toMatchObject({ mode: 'matrix', kernel: 'rbf', sigma: 0.4, sigma_relative: true, names: [sposePath, near.path, far.path] });
    expect(json.matrix.flat()).toEqual(Array.from(m.matrix));
    expect(json.sigmas).toEqual(m.sigmas);
  });

  it('says what is missing or wrong, naming the file and row', () => {
    const fail = (argv: Record<string, unknown>) => {
      try { runCkaCommand(argv, () => {}); } catch (e) { return e as Error; }
      throw new Error('expected an error');
    };
    const one = fail({ features: [near.path] });
    expect(isUserError(one)).toBe(true);
    expect(one.message).toContain('one features file and no reference');
    expect(fail({ features: [near.path], reference: sposePath, data: root }).message).toContain('both given');
    const short = join(root, 'short.csv');
    writeFileSync(short, '1,2\n3,4\n5,6\n7,8\n');
    expect(fail({ features: [short], reference: sposePath }).message).toMatch(/short\.csv: 4 rows .* has 48/);
    const swapped = join(root, 'swapped.arrow');
    writeFeaturesArrow(swapped, [ids[1], ids[0], ...ids.slice(2)], near.f, 66);
    expect(fail({ features: [swapped], reference: sposePath }).message).toContain('row 1 is stimulus');
    expect(fail({ features: [near.path, far.path], kernel: 'poly' }).message).toContain('--kernel');
  });
});
