import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@lw/core';
import { e2e } from '@lw/core/testing/system-parts';

// The default study end to end (issue 8), reduced in size through --set: every stage produces its
// outputs, a second run executes nothing, and changing one start epoch in the file reruns exactly
// that condition and the analysis. Slow (minutes), so it runs where LW_E2E is set (CI sets it).
const root = repoRoot();
const lw = join(root, 'packages/pipeline/bin/lw.js');
// Smaller data and a shorter pretraining; epochs and patience stay as in the file, so every
// checkpoint the perturbation runs resume from (baseline@epoch(start - 1)) still exists.
const shrink = ['pretrain_epochs=3', 'stages.data.params.images=300'];

interface Summary { tasks: number; ran: number; cached: number; failed: number }

function run(file: string, cache: string): Summary {
  const args = [lw, 'run', file, '--cache', cache, '--json', ...shrink.flatMap((s) => ['--set', s])];
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 20 * 60_000 });
  expect(r.status, `lw run failed:\n${r.stderr.slice(-4000)}`).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Summary;
}

/** stage -> task name -> entry directory, from the results index of the last run. */
function results(cache: string): Record<string, Record<string, string>> {
  const dir = join(cache, '..', 'results', 'sweep');
  return JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
}

const expectedFiles: Record<string, string[]> = {
  data: ['manifest.json', 'human_rdm.arrow', 'prompts.txt', 'vocab.txt'],
  pretrain: ['model.safetensors', 'config.json', 'metrics.csv'],
  features: ['features.json'],
  baseline: ['metrics.csv', 'metrics.arrow', 'params.json'],
  sweep: ['metrics.csv', 'metrics.arrow'],
  types: ['metrics.csv'],
  lengths: ['metrics.csv'],
  vit: ['metrics.csv'],
  vit_perturb: ['metrics.csv'],
  report: ['report.html', 'effects.csv', 'recovery.csv', 'fig1_baseline.png', 'fig3_sweep.png', 'fig4_recovery.png'],
};

describe.runIf(e2e())('the default study (pipelines/sweep.yaml, reduced)', () => {
  it('runs every stage, reruns nothing, and after one edit reruns exactly that condition and the analysis', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-e2e-'));
    const cache = join(dir, 'cache');
    const file = join(dir, 'sweep.yaml');
    const yaml = readFileSync(join(root, 'pipelines/sweep.yaml'), 'utf8');
    writeFileSync(file, yaml);

    const first = run(file, cache);
    expect(first.failed).toBe(0);
    expect(first.ran).toBe(first.tasks);

    const index = results(cache);
    expect(Object.keys(index).sort()).toEqual(Object.keys(expectedFiles).sort());
    for (const [stage, files] of Object.entries(expectedFiles)) {
      const tasks = Object.values(index[stage]);
      expect(tasks.length, stage).toBeGreaterThan(0);
      for (const entry of tasks) for (const f of files) expect(existsSync(join(entry, f)), `${stage}: ${entry}/${f}`).toBe(true);
    }
    for (const entry of Object.values(index.baseline)) expect(readdirSync(join(entry, 'checkpoints')).length).toBeGreaterThan(0);
    const report = Object.values(index.report)[0];
    expect(readFileSync(join(report, 'effects.csv'), 'utf8').split('\n')[0]).toMatch(/^type,start,length,delta_test_loss,delta_rsa/);

    expect(run(file, cache)).toEqual({ tasks: first.tasks, ran: 0, cached: first.tasks, failed: 0 });

    // One start epoch of the single-epoch sweep changes: that condition and the report rerun.
    const sweepAt = yaml.indexOf('\n  sweep:');
    expect(sweepAt).toBeGreaterThan(0);
    const line = yaml.slice(sweepAt).match(/^(\s+)start: \[([\d, ]+)\]/m)!;
    const starts = line[2].split(',').map((s) => Number(s.trim()));
    const fresh = Math.max(...starts) + 1;
    const edited = yaml.slice(0, sweepAt) + yaml.slice(sweepAt).replace(line[0], `${line[1]}start: [${[...starts.slice(0, -1), fresh].join(', ')}]`);
    expect(edited).not.toBe(yaml);
    writeFileSync(file, edited);
    const third = run(file, cache);
    expect(third).toEqual({ tasks: first.tasks, ran: 2, cached: first.tasks - 2, failed: 0 });
    const sweepNames = Object.keys(results(cache).sweep);
    expect(sweepNames).toContain(`sweep[start=${fresh}]`);
    expect(sweepNames).not.toContain(`sweep[start=${starts.at(-1)}]`);
  }, 45 * 60_000);
});
