import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@lw/core';

// `lw models inspect` through the real CLI (@lw/pipeline mounts @lw/models' commands); needs `tsc -b`.
const lw = join(repoRoot(), 'packages', 'pipeline', 'bin', 'lw.js');
const zoo = join(repoRoot(), 'packages', 'models', 'fixtures', 'zoo');

describe('lw models inspect (cross-package)', () => {
  it('prints one JSON object with --json; exit 0 when the weights match', () => {
    const r = spawnSync('node', [lw, 'models', 'inspect', join(zoo, 'openclip', 'open_clip_model.safetensors'), '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ layout: 'openclip', config: { text: { activation: 'gelu' } }, match: { ok: true } });
  });

  it('prints the report and exits 1 when the weights do not match', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-inspect-cli-'));
    copyFileSync(join(zoo, 'hf-clip', 'model.safetensors'), join(dir, 'model.safetensors'));
    const json = JSON.parse(readFileSync(join(zoo, 'hf-clip', 'config.json'), 'utf8'));
    json.vision_config.patch_size = 16;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(json));
    const r = spawnSync('node', [lw, 'models', 'inspect', dir], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('weights match  no: 0 missing, 0 unexpected, 2 mis-shaped; first: ill-shaped vision_model.embeddings.patch_embedding.weight: [32,3,8,8], expected [32,3,16,16]');
  });
});
