import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TaskResult } from '@lw/core';
import { CKA_RUN_FILE, writeCkaResults, type CkaRow } from '@lw/eval';
import { AnalysisParams, analyzeStudy } from './analyze.js';
import { buildFigures } from './figures.js';
import { loadStudyFromTasks } from './load.js';

/**
 * Two baselines (seeds 1, 2) and eval/cka tasks written by eval's own writer: linear and RBF for
 * each baseline, one that scored a perturbation run, one without run.json. CKA of seed s, epoch e:
 * 0.5 + 0.01·e + 0.001·s (linear), half that (RBF).
 */
const HEADER = 'epoch,train_loss,test_loss,behavioral_rsa_rho,behavioral_rsa_p_value,used_random_targets,used_shuffled_targets,used_uniform_images,used_image_noise';
const epochs = [1, 2, 3, 4];
const value = (s: number, e: number, kernel: string) => (kernel === 'linear' ? 1 : 0.5) * (0.5 + 0.01 * e + 0.001 * s);

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'lw-cka-runs-'));
  const baseline: TaskResult[] = [1, 2].map((s) => {
    const dir = join(root, `base-s${s}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'metrics.csv'), [HEADER, ...epochs.map((e) => [e, 1, 100 / e, 0.3 + 0.01 * e, 0.01, 'False', 'False', 'False', 'False'].join(','))].join('\n') + '\n');
    return { dir, key: `base-${s}`, stage: 'train/behavior', params: { seed: s }, condition: { seed: s } };
  });
  const ckaTask = (name: string, runKey: string, s: number, kernel: 'linear' | 'rbf', withRunFile = true): TaskResult => {
    const dir = join(root, name);
    mkdirSync(dir);
    const rows: CkaRow[] = epochs.map((e) => ({ epoch: e, kernel, unbiased: false, cka: value(s, e, kernel), n: 48, ...(kernel === 'rbf' ? { sigma: 0.8, sigmaModel: 1.5, sigmaHuman: 2.5 } : {}) }));
    writeCkaResults(dir, rows);
    if (withRunFile) writeFileSync(join(dir, CKA_RUN_FILE), JSON.stringify({ stage: 'train/behavior', key: runKey, seed: s }));
    return { dir, key: name, stage: 'eval/cka', params: { kernel }, condition: { seed: s, kernel } };
  };
  const cka = [
    ...[1, 2].flatMap((s) => (['linear', 'rbf'] as const).map((k) => ckaTask(`cka-${s}-${k}`, `base-${s}`, s, k))),
    ckaTask('cka-of-a-run', 'sweep-1', 1, 'linear'),
    ckaTask('cka-without-run-file', 'base-1', 1, 'linear', false),
  ];
  return { baseline, cka };
}

describe('eval/cka tasks in the report', () => {
  const { baseline, cka } = setup();
  const study = loadStudyFromTasks({ baseline, runs: [], cka });

  it('puts each series on the baseline it scored, by task key', () => {
    const [b1, b2] = study.arms[0]!.baselines;
    expect(b1!.cka!.map((s) => s.label)).toEqual(['linear', 'RBF σ = 0.8 × median']);
    expect(b2!.cka![0]!.rows).toEqual(epochs.map((e) => ({ epoch: e, cka: value(2, e, 'linear') })));
    expect(b2!.cka![1]!.rows.map((r) => r.cka)).toEqual(epochs.map((e) => value(2, e, 'rbf')));
  });

  it('reports a task of another run, and one without run.json, as problems naming them', () => {
    const messages = study.problems.map((p) => `${p.source}: ${p.message}`);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/eval\/cka cka-of-a-run: scored train\/behavior task sweep-1, which is not one of the report's baselines/);
    expect(messages[1]).toContain(join('cka-without-run-file', CKA_RUN_FILE));
  });

  it('draws Fig 9: one CKA panel per kernel and the ρ panel, each seed a line', () => {
    const params = AnalysisParams.parse({});
    const figures = buildFigures(study.arms, analyzeStudy(study, params), params);
    const fig = figures.find((f) => f.id === 'fig9_cka')!;
    expect(fig).toBeDefined();
    const row = (fig.spec as { vconcat: Array<{ hconcat: Array<{ title: string }>; data: { values: Array<{ measure: string; seed: string; value: number }> } }> }).vconcat[0]!;
    expect(row.hconcat.map((p) => p.title)).toEqual(['CKA, linear', 'CKA, RBF σ = 0.8 × median', 'RSA ρ (output)']);
    const rho = row.data.values.filter((v) => v.measure === 'ρ' && v.seed === 'seed 1').map((v) => v.value);
    expect(rho).toEqual(epochs.map((e) => 0.3 + 0.01 * e));
    // Without eval/cka tasks there is no Fig 9.
    const bare = loadStudyFromTasks({ baseline, runs: [] });
    expect(buildFigures(bare.arms, analyzeStudy(bare, params), params).some((f) => f.id === 'fig9_cka')).toBe(false);
    expect(readFileSync(join(cka[0]!.dir, 'cka.csv'), 'utf8').split('\n')[0]).toBe('epoch,kernel,unbiased,cka,sigma,sigma_model,sigma_human,n');
  });
});
