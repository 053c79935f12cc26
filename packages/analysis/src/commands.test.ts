import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { sharedDir } from '@lw/core';
import { analyzeCommand, commands } from './commands.js';

const HEADER = 'epoch,train_loss,test_loss,behavioral_rsa_rho,behavioral_rsa_p_value,used_random_targets,used_shuffled_targets,used_uniform_images,used_image_noise';

/** A task folder as train/behavior writes it: metrics.csv and params.json ({ stage, params, backend, versions }). */
function ourTask(root: string, name: string, params: Record<string, unknown>, rows: string[]): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'metrics.csv'), [HEADER, ...rows].join('\n') + '\n');
  writeFileSync(
    join(dir, 'params.json'),
    JSON.stringify({ stage: 'train/behavior', params, backend: { name: 'wasm', version: '4.22.0', threads: 2 }, versions: { '@lw/train': '0.1.0' } }),
  );
  return dir;
}

describe('lw analyze', () => {
  it('is registered as the analyze command', () => {
    expect(commands.map((c) => c.command)).toContain('analyze');
  });

  it('rejects a bad --threshold as a user error naming the flag', async () => {
    await expect(analyzeCommand({ baseline: '/nonexistent.csv', out: '/tmp/x', threshold: -1 })).rejects.toThrow(/^--threshold: /);
  });

  it('names a missing baseline file', async () => {
    await expect(analyzeCommand({ baseline: '/nonexistent/baseline.csv', out: '/tmp/x' })).rejects.toThrow(/\/nonexistent\/baseline\.csv: cannot read metrics \(ENOENT\)/);
  });

  it('takes single study runs and folders of them through --runs', async () => {
    const R = join(sharedDir(), 'data', 'reference-results');
    const out = mkdtempSync(join(tmpdir(), 'lw-analysis-cli-study-'));
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await analyzeCommand({
        baseline: join(R, 'baseline_clip_results_seed1.csv'),
        runs: [join(R, 'lengths', 'random_target_e2_l5'), join(R, 'single_sweep'), join(R, 'types', 'image_noise', 'training_res_run15.csv')],
        out,
      });
    } finally {
      stderr.mockRestore();
    }
    const rows = readFileSync(join(out, 'effects.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 3).join(','));
    expect(rows).toEqual(['image_noise,15,1', 'random_target,2,5', 'random_target,5,1', 'random_target,30,1']);
    expect(readFileSync(join(out, 'problems.csv'), 'utf8').trim()).toBe('source,message');
  });

  it('reads our run folders (--runs), writes effects.csv and recovery.csv, and prints JSON last', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lw-analysis-cli-'));
    // Baseline test loss 50, 40, 30, 25 (min at 4), 26; ρ 0.1 per epoch.
    const base = ourTask(root, 'baseline', { seed: 1 }, [50, 40, 30, 25, 26].map((l, i) => `${i + 1},1,${l},${0.1 * (i + 1)},0.01,False,False,False,False`));
    const run = ourTask(root, 'blank-e2', { seed: 1, perturb: { type: 'blank_image', start: 2, length: 1, seed: 7 } }, [
      '2,1,44,0.15,0.01,False,False,True,False',
      // Epoch 3: 30.2 <= 1.01 × 30 = 30.3 -> recovered 1 epoch after P = 2.
      '3,1,30.2,0.3,0.01,False,False,False,False',
    ]);
    const out = join(root, 'out');
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let printed: string[];
    try {
      await analyzeCommand({ baseline: base, runs: [run], out, json: true });
      printed = stdout.mock.calls.map((c) => String(c[0])).join('').trim().split('\n');
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(JSON.parse(printed.at(-1)!)).toMatchObject({ runs: 1, recovered: 1, problems: 0 });
    const effects = readFileSync(join(out, 'effects.csv'), 'utf8').split('\n');
    // 44 − 40 = 4; 0.15 − 0.2 = −0.05 (printed as JS prints the double).
    expect(effects[1]!.split(',').slice(0, 7)).toEqual(['blank_image', '2', '1', '4', String(0.15 - 0.2), 'CLIP-HBA', '1']);
    expect(readFileSync(join(out, 'recovery.csv'), 'utf8').split('\n')[1]!.split(',').slice(0, 4)).toEqual(['2', '1', '1', 'blank_image']);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<td>wasm 4.22.0 (2 threads)</td>');
  });

  it('takes one --baseline per seed and compares each run with its own seed\'s', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lw-analysis-cli-seeds-'));
    // Seed 1: loss 50, 40, 30; seed 2: 10 higher. ρ 0.1·e for both.
    const rows = (offset: number) => [50, 40, 30].map((l, i) => `${i + 1},1,${l + offset},${0.1 * (i + 1)},0.01,False,False,False,False`);
    const b1 = ourTask(root, 'baseline-1', { seed: 1 }, rows(0));
    const b2 = ourTask(root, 'baseline-2', { seed: 2 }, rows(10));
    const run = (seed: number, loss: number) => ourTask(root, `rt-s${seed}`, { seed, perturb: { type: 'random_target', start: 2, length: 1, seed: 42 } }, [`2,1,${loss},0.2,0.01,True,False,False,False`, `3,1,${loss},0.3,0.01,False,False,False,False`]);
    const out = join(root, 'out');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let summary;
    try {
      summary = await analyzeCommand({ baseline: [b1, b2], runs: [run(1, 45), run(2, 54), run(3, 60)], out });
    } finally {
      stderr.mockRestore();
    }
    expect(summary).toMatchObject({ runs: 2, problems: 1, baselines: { 'CLIP-HBA': 2 } });
    // Seed 1: 45 − 40 = 5; seed 2: 54 − 50 = 4 (against seed 1's baseline it would be 14).
    const effects = readFileSync(join(out, 'effects.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    expect(effects.map((e) => [e[6], e[3]])).toEqual([['1', '5'], ['2', '4']]);
    expect(readFileSync(join(out, 'problems.csv'), 'utf8')).toMatch(/rt-s3.*no baseline has its seed 3 \(baseline seeds: 1, 2\)/);
  });
});
