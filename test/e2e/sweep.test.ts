import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@lw/core';
import { e2e } from '@lw/core/testing/system-parts';
import { loadSplit, openDataset } from '@lw/data';

// The default study end to end, exactly as `npx nx run pipeline:sweep` runs it (pipelines/sweep.yaml,
// nothing shrunk): every stage produces its outputs; the report reads as a researcher would check
// it (no problems, both model arms, every effect over >= 3 seeds with an interval, the single-epoch
// sweep over >= 10 start epochs); the models learn what the file promises; a second run executes
// nothing; changing one start epoch reruns exactly that condition (at every seed) and the analysis.
// Slow (about as long as the study), so it runs where LW_E2E is set (CI sets it).
const root = repoRoot();
const lw = join(root, 'packages/pipeline/bin/lw.js');

interface Summary { tasks: number; ran: number; cached: number; failed: number; problems?: number }

function run(file: string, dir: string): Summary {
  const args = [lw, 'run', file, '--cache', join(dir, 'cache'), '--results', join(dir, 'results'), '--json'];
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 30 * 60_000 });
  expect(r.status, `lw run failed:\n${r.stderr.slice(-4000)}`).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Summary;
}

/** stage -> task name -> entry directory, from the results index of the last run. */
function results(dir: string): Record<string, Record<string, string>> {
  return JSON.parse(readFileSync(join(dir, 'results', 'sweep', 'results.json'), 'utf8'));
}

/** A CSV as records; fields may be quoted (run names hold commas). */
function readCsv(file: string): Array<Record<string, string>> {
  const split = (line: string) => {
    const cells: string[] = [];
    let cell = '', quoted = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (quoted && c === '"' && line[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = !quoted;
      else if (c === ',' && !quoted) { cells.push(cell); cell = ''; }
      else cell += c;
    }
    return [...cells, cell];
  };
  const [head, ...lines] = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  const names = split(head!);
  return lines.map((l) => Object.fromEntries(split(l).map((v, i) => [names[i]!, v])));
}

/** Validation MSE of predicting every item by the per-dimension mean of the training targets. */
function perDimensionMeanMse(dataDir: string): number {
  const ds = openDataset(dataDir);
  const train = loadSplit(ds, 'train'), val = loadSplit(ds, 'val');
  const dims = train.targets!.length / train.ids.length;
  const mean = new Float64Array(dims);
  train.targets!.forEach((v, i) => { mean[i % dims]! += v / train.ids.length; });
  let sum = 0;
  val.targets!.forEach((v, i) => { sum += (v - mean[i % dims]!) ** 2; });
  return sum / val.targets!.length;
}

const expectedFiles: Record<string, string[]> = {
  data: ['manifest.json', 'human_rdm.arrow', 'prompts.txt', 'vocab.txt'],
  corpus: ['manifest.json'],
  vit_data: ['manifest.json', 'human_rdm.arrow'],
  pretrain: ['model.safetensors', 'config.json', 'metrics.csv'],
  features: ['features.json'],
  baseline: ['metrics.csv', 'metrics.arrow', 'params.json', 'layer_rsa.csv', 'layer_rsa.arrow', 'epoch_measures.csv', 'epoch_measures.arrow'],
  sweep: ['metrics.csv', 'metrics.arrow', 'layer_rsa.arrow'],
  types: ['metrics.csv', 'layer_rsa.arrow'],
  lengths: ['metrics.csv', 'layer_rsa.arrow'],
  vit: ['metrics.csv', 'layer_rsa.arrow', 'epoch_measures.arrow'],
  vit_perturb: ['metrics.csv', 'layer_rsa.arrow'],
  cka: ['cka.csv', 'cka.arrow', 'run.json'],
  report: ['report.html', 'findings.md', 'effects.csv', 'summary.csv', 'recovery.csv', 'problems.csv', 'fig1_baseline.png', 'fig2_types.png', 'fig3_sweep.png', 'fig4_recovery.png',
    'fig6_layer_rsa.png', 'fig7_layer_effects.png', 'fig8_fisher.png', 'fig9_cka.png', 'layer_effects.csv'],
};

describe.runIf(e2e())('the default study (pipelines/sweep.yaml)', () => {
  it('runs every stage into a clean report of models that learn, reruns nothing, and after one edit reruns exactly that condition', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-e2e-'));
    const file = join(dir, 'sweep.yaml');
    const yaml = readFileSync(join(root, 'pipelines/sweep.yaml'), 'utf8');
    writeFileSync(file, yaml);

    const first = run(file, dir);
    expect(first).toEqual({ tasks: first.tasks, ran: first.tasks, cached: 0, failed: 0 });

    const index = results(dir);
    expect(Object.keys(index).sort()).toEqual(Object.keys(expectedFiles).sort());
    for (const [stage, files] of Object.entries(expectedFiles)) {
      const tasks = Object.values(index[stage]!);
      expect(tasks.length, stage).toBeGreaterThan(0);
      for (const entry of tasks) for (const f of files) expect(existsSync(join(entry, f)), `${stage}: ${entry}/${f}`).toBe(true);
    }
    for (const entry of Object.values(index.baseline!)) expect(readdirSync(join(entry, 'checkpoints')).length).toBeGreaterThan(0);

    // The report as a reader checks it.
    const report = Object.values(index.report!)[0]!;
    expect(readCsv(join(report, 'problems.csv'))).toEqual([]);
    const html = readFileSync(join(report, 'report.html'), 'utf8');
    expect(html).not.toMatch(/Problems \(/);
    expect(html).toMatch(/Findings/);
    for (const id of ['fig6_layer_rsa', 'fig7_layer_effects', 'fig8_fisher', 'fig9_cka']) expect(html, `report figure ${id}`).toContain(`<figure id="${id}">`);
    const effects = readCsv(join(report, 'effects.csv'));
    expect(new Set(effects.map((e) => e.model))).toEqual(new Set(['CLIP-HBA', 'ViT']));
    const summary = readCsv(join(report, 'summary.csv')).filter((r) => r.measure === 'delta_rsa' || r.measure === 'delta_test_loss');
    expect(new Set(summary.map((r) => r.model))).toEqual(new Set(['CLIP-HBA', 'ViT']));
    for (const r of summary) {
      const what = `${r.model} ${r.type} start ${r.start} length ${r.length} ${r.measure}`;
      expect(Number(r.n), what).toBeGreaterThanOrEqual(3);
      expect(Number.isFinite(Number.parseFloat(r.ci_low!)) && Number.isFinite(Number.parseFloat(r.ci_high!)), `${what}: interval`).toBe(true);
      expect(r.q, `${what}: corrected p`).not.toBe('');
    }
    const sweepStarts = new Set(summary.filter((r) => r.model === 'CLIP-HBA' && r.type === 'random_target' && r.length === '1').map((r) => r.start));
    expect(sweepStarts.size).toBeGreaterThanOrEqual(10);
    expect(new Set(summary.filter((r) => r.model === 'ViT').map((r) => r.type)).size).toBe(4);

    // The models learn (issue 16's targets): every CLIP-HBA baseline's best RSA >= 0.5 and >= 0.15 above
    // its epoch-1 RSA, its best validation MSE well below the per-dimension-mean predictor's; every ViT
    // reaches 0.8 validation accuracy and its RSA rises over training.
    const meanMse = perDimensionMeanMse(Object.values(index.data!)[0]!);
    for (const [name, entry] of Object.entries(index.baseline!)) {
      const rows = readCsv(join(entry, 'metrics.csv'));
      const rsa = rows.map((r) => Number(r.behavioral_rsa_rho));
      expect(Math.max(...rsa), `${name}: best RSA`).toBeGreaterThanOrEqual(0.5);
      expect(Math.max(...rsa) - rsa[0]!, `${name}: RSA rise over epoch 1`).toBeGreaterThanOrEqual(0.15);
      expect(Math.min(...rows.map((r) => Number(r.test_loss))), `${name}: best val MSE vs per-dimension mean ${meanMse}`).toBeLessThan(0.8 * meanMse);
    }
    // The per-epoch measures of the baselines (layers: all, fisher): every block and the output each
    // epoch, the output's ρ being metrics' exactly; a positive Fisher trace every epoch.
    for (const [name, entry] of Object.entries(index.baseline!)) {
      const metrics = readCsv(join(entry, 'metrics.csv'));
      const layers = readCsv(join(entry, 'layer_rsa.csv'));
      expect(new Set(layers.map((r) => r.layer_name)), name).toEqual(new Set(['block0', 'block1', 'block2', 'block3', 'output']));
      expect(layers.filter((r) => r.layer_name === 'output').map((r) => [r.epoch, r.rsa_rho]), `${name}: output layer`).toEqual(metrics.map((r) => [r.epoch, r.behavioral_rsa_rho]));
      const fisher = readCsv(join(entry, 'epoch_measures.csv'));
      expect(fisher.map((r) => r.epoch), `${name}: Fisher epochs`).toEqual(metrics.map((r) => r.epoch));
      for (const r of fisher) expect(Number(r.fisher_trace), `${name}: Fisher trace at epoch ${r.epoch}`).toBeGreaterThan(0);
    }
    // CKA: each eval/cka task scored its own seed's baseline, every epoch, with a CKA in (0, 1].
    for (const [name, entry] of Object.entries(index.cka!)) {
      const seed = Number(/seed=(\d+)/.exec(name)![1]);
      const scored = JSON.parse(readFileSync(join(entry, 'run.json'), 'utf8')) as { stage: string; seed: number };
      expect(scored, name).toMatchObject({ stage: 'train/behavior', seed });
      const baseline = Object.entries(index.baseline!).find(([n]) => n.includes(`seed=${seed}`))![1];
      const rows = readCsv(join(entry, 'cka.csv'));
      expect(rows.map((r) => r.epoch), name).toEqual(readCsv(join(baseline, 'metrics.csv')).map((r) => r.epoch));
      for (const r of rows) expect(Number(r.cka) > 0 && Number(r.cka) <= 1, `${name} epoch ${r.epoch}: cka ${r.cka}`).toBe(true);
    }
    for (const [name, entry] of Object.entries(index.vit!)) {
      const rows = readCsv(join(entry, 'metrics.csv'));
      expect(Math.max(...rows.map((r) => Number(r.val_acc))), `${name}: val accuracy`).toBeGreaterThanOrEqual(0.8);
      const rsa = rows.map((r) => Number(r.rsa_rho));
      expect(Math.max(...rsa) - rsa[0]!, `${name}: RSA rise`).toBeGreaterThanOrEqual(0.05);
    }

    expect(run(file, dir)).toEqual({ tasks: first.tasks, ran: 0, cached: first.tasks, failed: 0 });

    // One start epoch of the single-epoch sweep changes: that condition at each seed, and the report, rerun.
    const sweepAt = yaml.indexOf('\n  sweep:');
    expect(sweepAt).toBeGreaterThan(0);
    const seeds = yaml.slice(sweepAt).match(/^\s+seed: \[([\d, ]+)\]/m)![1]!.split(',').length;
    const line = yaml.slice(sweepAt).match(/^(\s+)start: \[([\d, ]+)\]/m)!;
    const starts = line[2]!.split(',').map((s) => Number(s.trim()));
    const fresh = Math.max(...starts) + 1;
    const edited = yaml.slice(0, sweepAt) + yaml.slice(sweepAt).replace(line[0], `${line[1]}start: [${[...starts.slice(0, -1), fresh].join(', ')}]`);
    expect(edited).not.toBe(yaml);
    writeFileSync(file, edited);
    const third = run(file, dir);
    expect(third).toEqual({ tasks: first.tasks, ran: seeds + 1, cached: first.tasks - seeds - 1, failed: 0 });
    const sweepNames = Object.keys(results(dir).sweep!);
    expect(sweepNames).toContain(`sweep[seed=1,start=${fresh}]`);
    expect(sweepNames).not.toContain(`sweep[seed=1,start=${starts.at(-1)}]`);
  }, 60 * 60_000);
});
