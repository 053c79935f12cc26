import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@lw/core';
import { Cache, loadPlan } from '@lw/pipeline';

// The real study's pipeline files plan the published design (method §4, §7.3) without any data:
// the paths are dummies, planning only fingerprints them.
const root = repoRoot();
const lw = join(root, 'packages/pipeline/bin/lw.js');

function dummyEnv(): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'lw-real-plan-'));
  const meta = join(dir, 'meta');
  for (const d of ['images', 'meta', 'clip', 'imagenet']) mkdirSync(join(dir, d));
  for (const f of ['spose_embedding66d_rescaled.csv', 'triplet48_index.npy', 'RDM48_triplet.mat', 'spose_dimensions66.txt']) writeFileSync(join(meta, f), 'dummy');
  return { ...process.env, THINGS_IMAGES: join(dir, 'images'), THINGS_META: meta, CLIP_CHECKPOINT: join(dir, 'clip'), IMAGENET_ROOT: join(dir, 'imagenet'), LW_CACHE: join(dir, 'cache') };
}

function lwJson(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, [lw, ...args], { cwd: root, env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('pipelines/things-clip-hba.yaml', () => {
  it('plans the published design: 98 sweep starts, 3 types x 7 epochs, the 11 x 7 length grid, one shared baseline', async () => {
    const env = dummyEnv();
    const dry = lwJson(['run', 'pipelines/things-clip-hba.yaml', '--dry-run', '--json'], env);
    // data + clip + features + baseline + 98 + 21 + 77 + report
    expect(dry).toEqual({ tasks: 201, toRun: 201, cached: 0 });

    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const { plan } = await loadPlan(join(root, 'pipelines/things-clip-hba.yaml'), [], new Cache(env.LW_CACHE!));
      const stage = (name: string) => plan.tasks.filter((t) => t.stageName === name);
      const [baseline] = stage('baseline');
      expect(stage('baseline')).toHaveLength(1);
      expect(baseline.params).toMatchObject({ patience: 20, seed: 1, lr: 3e-4, batchSize: 64, weightDecay: 0.01 });

      const perturb = (t: (typeof plan.tasks)[number]) => t.params.perturb as { type: string; start: number; length: number; seed: number };
      const sweep = stage('sweep');
      expect(sweep.map((t) => perturb(t).start).sort((a, b) => a - b)).toEqual(range(1, 98));
      for (const t of sweep) expect(perturb(t)).toMatchObject({ type: 'random_target', length: 1, seed: 42 });

      const types = stage('types').map((t) => `${perturb(t).type}@${perturb(t).start}`);
      expect(new Set(types).size).toBe(21);
      for (const type of ['label_shuffle', 'image_noise', 'blank_image']) for (const e of [5, 15, 25, 35, 45, 70, 98]) expect(types).toContain(`${type}@${e}`);

      const lengths = stage('lengths').map((t) => `${perturb(t).start}/${perturb(t).length}`);
      expect(new Set(lengths).size).toBe(77);
      for (const t of stage('lengths')) expect(perturb(t)).toMatchObject({ type: 'random_target', seed: 0 });
      expect(stage('lengths').every((t) => t.params.patience === 20)).toBe(true);

      // Prefix sharing: every perturbation run resumes from the one baseline, at epoch start - 1.
      for (const t of [...sweep, ...stage('types'), ...stage('lengths')]) {
        const resume = t.inputs.resume as { key: string; epoch: number };
        expect(resume.key).toBe(baseline.key);
        expect(resume.epoch).toBe(perturb(t).start - 1);
      }
      // Each condition once: no two tasks share a key.
      expect(new Set(plan.tasks.map((t) => t.key)).size).toBe(plan.tasks.length);
    } finally {
      process.env = saved;
    }
  });

  it('names every missing path variable at once', () => {
    const env = { ...process.env };
    for (const v of ['THINGS_IMAGES', 'THINGS_META', 'CLIP_CHECKPOINT']) delete env[v];
    const r = spawnSync(process.execPath, [lw, 'run', 'pipelines/things-clip-hba.yaml', '--dry-run'], { cwd: root, env, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('3 required variables are not set');
    for (const [name, envName] of [['things_images', 'THINGS_IMAGES'], ['things_meta', 'THINGS_META'], ['clip_checkpoint', 'CLIP_CHECKPOINT']]) {
      expect(r.stderr).toMatch(new RegExp(`things-clip-hba\\.yaml:\\d+:\\d+: variable "${name}" .*export ${envName}=\\.\\.\\. or pass --set ${name}=`));
    }
  });
});

describe('pipelines/imagenet-vit.yaml', () => {
  it('plans the ViT baseline and 4 types x 11 epochs of single-epoch measurements from its checkpoints', async () => {
    const env = dummyEnv();
    // imagenet + things + vit + 44
    expect(lwJson(['run', 'pipelines/imagenet-vit.yaml', '--dry-run', '--json'], env)).toEqual({ tasks: 47, toRun: 47, cached: 0 });
  });
});
