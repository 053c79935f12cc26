import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, sharedDir } from '@lw/core';

// `lw data things` through the real CLI: bad inputs are one error paragraph naming the flag or the
// file (exit 1), never "internal error" with a stack. Reads ../shared/data/things; cut copies go to a tmp dir.
const lw = join(repoRoot(), 'packages', 'pipeline', 'bin', 'lw.js');
const things = join(sharedDir(), 'data', 'things');
const tmp = mkdtempSync(join(tmpdir(), 'lw-data-things-cli-'));

const flags: Record<string, string> = {
  images: join(tmp, 'object_images'),
  embeddings: join(things, 'spose_embedding66d_rescaled.csv'),
  'test-index': join(things, 'triplet48_index.npy'),
  'human-rdm': join(things, 'RDM48_triplet.mat'),
  out: join(tmp, 'out'),
};

function dataThings(over: Record<string, string>): { status: number | null; stderr: string } {
  const args = Object.entries({ ...flags, ...over }).flatMap(([k, v]) => [`--${k}`, v]);
  const r = spawnSync(process.execPath, [lw, 'data', 'things', ...args], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

describe('lw data things with bad inputs', () => {
  it('a missing --human-rdm or --test-index file is a one-line error naming the flag and the file', () => {
    const rdm = dataThings({ 'human-rdm': '/nonexistent/RDM48_triplet.mat' });
    expect(rdm.status).toBe(1);
    expect(rdm.stderr).toBe('error: --human-rdm /nonexistent/RDM48_triplet.mat: no such file\n  hint: expected human RDM: RDM48_triplet.mat (MATLAB v5), .npy, .csv or .arrow\n');
    const index = dataThings({ 'test-index': '/nonexistent/triplet48_index.npy' });
    expect(index.status).toBe(1);
    expect(index.stderr).toBe('error: --test-index /nonexistent/triplet48_index.npy: no such file\n  hint: expected the test items in RDM order: triplet48_index.npy or the 48val_reordered CSV\n');
  });

  it('an empty flag value or a directory says so', () => {
    const empty = dataThings({ 'human-rdm': '' });
    expect(empty.status).toBe(1);
    expect(empty.stderr).toMatch(/^error: --human-rdm: no file given\n  hint: expected human RDM/);
    const dir = dataThings({ 'test-index': things });
    expect(dir.stderr).toMatch(new RegExp(`^error: --test-index ${things}: is a directory, not a file\n`));
  });

  it('an embeddings CSV cut at a row boundary is blamed on the CSV, with the expected row count', () => {
    const cut = join(tmp, 'spose_cut.csv');
    writeFileSync(cut, readFileSync(flags.embeddings, 'utf8').split('\n').slice(0, 1000).join('\n') + '\n');
    const r = dataThings({ embeddings: cut });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: ${cut}: 999 embedding rows, expected 1854 \\(one per THINGS image\\)\n  hint: `));
    expect(r.stderr).not.toContain('triplet48_index');
  });
});
