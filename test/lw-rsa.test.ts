import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, sharedDir } from '@lw/core';

// `lw rsa` through the real CLI (@lw/pipeline mounts @lw/eval's command); needs `tsc -b` of both.
const lw = join(repoRoot(), 'packages', 'pipeline', 'bin', 'lw.js');
const things = join(sharedDir(), 'data', 'things');

describe('lw rsa (cross-package)', () => {
  it('scores the SPoSE embeddings of the 48 test images against RDM48_triplet.mat, JSON on the last line', () => {
    const r = spawnSync('node', [lw, 'rsa', '--features', join(things, 'spose_embedding66d_rescaled_48val_reordered.csv'),
      '--human-rdm', join(things, 'RDM48_triplet.mat'), '--permutations', '99', '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    // SciPy (packages/eval/fixtures/make_fixtures.py): spearmanr = 0.8644036894441383
    expect(out.rho).toBeCloseTo(0.8644036894441383, 12);
    expect(out).toMatchObject({ n_pairs: 1128, p_perm: 0.01 });
  });

  it('exits 1 with the file named when a file is missing', () => {
    const r = spawnSync('node', [lw, 'rsa', '--features', '/nonexistent/f.csv', '--human-rdm', join(things, 'RDM48_triplet.mat')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('/nonexistent/f.csv: file not found');
  });
});
