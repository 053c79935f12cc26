import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sharedDir } from '@lw/core';
import { commands, runRsaCommand } from './commands.js';

const ref = JSON.parse(readFileSync(new URL('../fixtures/scipy_reference.json', import.meta.url), 'utf8'));
const things = join(sharedDir(), 'data', 'things');
const features = join(things, 'spose_embedding66d_rescaled_48val_reordered.csv');
const rdm = join(things, 'RDM48_triplet.mat');
const script = fileURLToPath(new URL('../scripts/rsa.mjs', import.meta.url));

describe('lw rsa', () => {
  it('prints {rho, p, n_pairs} as the last stdout line with --json', () => {
    const lines: string[] = [];
    runRsaCommand({ features, 'human-rdm': rdm, json: true }, (l) => lines.push(l));
    const out = JSON.parse(lines[lines.length - 1]);
    expect(Object.keys(out)).toEqual(['rho', 'p', 'n_pairs']);
    expect(out.rho).toBeCloseTo(ref.things.spearman[0], 12);
    expect(out.n_pairs).toBe(1128);
  });

  it('adds p_perm and ci when asked, and honours --compare', () => {
    const lines: string[] = [];
    runRsaCommand({ features, 'human-rdm': rdm, json: true, permutations: 50, bootstrap: 30, compare: 'kendall' }, (l) => lines.push(l));
    const out = JSON.parse(lines[lines.length - 1]);
    expect(out.rho).toBeCloseTo(ref.things.kendall[0], 12);
    expect(out.p_perm).toBe(1 / 51);
    expect(out.ci).toHaveLength(2);
  });

  it('rejects bad flags and mismatched files with the file named', () => {
    expect(() => runRsaCommand({ features, 'human-rdm': rdm, metric: 'manhattan' }, () => {})).toThrow(/--metric/);
    const d = mkdtempSync(join(tmpdir(), 'lw-eval-cli-'));
    writeFileSync(join(d, 'f.csv'), '1,2,3\n4,5,6\n');
    expect(() => runRsaCommand({ features: join(d, 'f.csv'), 'human-rdm': rdm }, () => {}))
      .toThrow(`${join(d, 'f.csv')}: 2 rows of features, but ${rdm} is 48 x 48`);
  });

  it('refuses NaN features and a constant row, naming the stimulus and what is wrong', () => {
    const d = mkdtempSync(join(tmpdir(), 'lw-eval-cli-'));
    const lines = readFileSync(features, 'utf8').split('\n');
    const name = (row: number) => lines[row].split(',')[1];
    const cut = (row: number, edit: (cells: string[]) => string[], file: string) => {
      const copy = [...lines];
      copy[row] = edit(copy[row].split(',')).join(',');
      writeFileSync(join(d, file), copy.join('\n'));
      return join(d, file);
    };
    const nan = cut(3, (c) => [...c.slice(0, 7), 'nan', ...c.slice(8)], 'nan.csv');
    expect(() => runRsaCommand({ features: nan, 'human-rdm': rdm }, () => {})).toThrow(`${nan}: row 3 of 48 (${name(3)}) has NaN at feature 6 of 66`);
    const flat = cut(5, (c) => [...c.slice(0, 2), ...c.slice(2).map(() => '1.5')], 'flat.csv');
    expect(() => runRsaCommand({ features: flat, 'human-rdm': rdm }, () => {}))
      .toThrow(`${flat}: row 5 of 48 (${name(5)}) is constant (every feature is 1.5), so its correlation distance (1 - Pearson) to the other rows is undefined`);
    // euclidean distances are defined for a constant row
    expect(Number.isFinite(runRsaCommand({ features: flat, 'human-rdm': rdm, metric: 'euclidean' }, () => {}).rho)).toBe(true);
    const zero = cut(5, (c) => [...c.slice(0, 2), ...c.slice(2).map(() => '0')], 'zero.csv');
    expect(() => runRsaCommand({ features: zero, 'human-rdm': rdm, metric: 'cosine' }, () => {})).toThrow(`${zero}: row 5 of 48 (${name(5)}) is all zeros`);
  });

  it('is exported as the `rsa` command with yargs options for every flag', () => {
    const cmd = commands.find((c) => c.command === 'rsa')!;
    const declared: string[] = [];
    cmd.builder({ option(name: string) { declared.push(name); return this; } });
    expect(declared).toEqual(['features', 'human-rdm', 'variable', 'metric', 'compare', 'permutations', 'bootstrap', 'seed', 'json']);
  });

  it('runs as a script on the real files; errors go to stderr with exit code 1', () => {
    const stdout = execFileSync('node', [script, '--features', features, '--human-rdm', rdm, '--json'], { encoding: 'utf8' });
    const last = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(last.rho).toBeGreaterThan(0.85);
    const bad = spawnSync('node', [script, '--features', '/nonexistent.csv', '--human-rdm', rdm], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('error: /nonexistent.csv: file not found\n');
  });
});
