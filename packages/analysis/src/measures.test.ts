import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Float64, Int32, Table, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { TaskResult } from '@lw/core';
import { AnalysisParams, analyzeStudy } from './analyze.js';
import { buildFigures } from './figures.js';
import { buildFindings } from './findings.js';
import { loadStudyFromTasks } from './load.js';
import { writeAnalysis } from './write.js';

/**
 * Baselines of seeds 1 and 2 (epochs 1..6) and one random-target run per seed at epoch 3 (epochs
 * 3..6), with layer_rsa (block0 frozen, block1, output) and epoch_measures as train/behavior writes
 * them. Baseline ρ of layer l at epoch e, seed s: 0.1·l + 0.01·e + 0.001·s. The runs lower layer l
 * by 0.05·l at the perturbed epoch and by 0.01·l afterwards, so the per-layer Δρ is known exactly.
 */
const HEADER = 'epoch,train_loss,test_loss,behavioral_rsa_rho,behavioral_rsa_p_value,used_random_targets,used_shuffled_targets,used_uniform_images,used_image_noise';
const LAYERS = ['block0', 'block1', 'output'];
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const baseRho = (l: number, e: number, s: number) => 0.1 * l + 0.01 * e + 0.001 * s;
const runDelta = (l: number, e: number) => (e === 3 ? -0.05 * l : -0.01 * l);

function arrow(columns: Record<string, { type: 'int' | 'float' | 'utf8'; values: Array<number | string> }>): Uint8Array {
  const types = { int: new Int32(), float: new Float64(), utf8: new Utf8() };
  return tableToIPC(new Table(Object.fromEntries(Object.entries(columns).map(([k, c]) => [k, vectorFromArray(c.values, types[c.type])]))), 'file');
}

function writeRun(root: string, name: string, s: number, epochs: number[], rho: (l: number, e: number) => number, perturbed: number | null, measures: boolean): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const metrics = epochs.map((e) => [e, 1, 100 / e, rho(2, e), 0.01, e === perturbed ? 'True' : 'False', 'False', 'False', 'False'].join(','));
  writeFileSync(join(dir, 'metrics.csv'), [HEADER, ...metrics].join('\n') + '\n');
  if (!measures) return dir;
  const rows = epochs.flatMap((e) => LAYERS.map((n, l) => ({ e, l, n, r: rho(l, e) })));
  writeFileSync(join(dir, 'layer_rsa.arrow'), arrow({
    epoch: { type: 'int', values: rows.map((r) => r.e) }, layer: { type: 'int', values: rows.map((r) => r.l) },
    layer_name: { type: 'utf8', values: rows.map((r) => r.n) }, rsa_rho: { type: 'float', values: rows.map((r) => r.r) },
    rsa_p_value: { type: 'float', values: rows.map(() => 0.01) },
  }));
  writeFileSync(join(dir, 'epoch_measures.arrow'), arrow({
    epoch: { type: 'int', values: epochs }, fisher_trace: { type: 'float', values: epochs.map((e) => 100 / e + s) },
    fisher_probe: { type: 'int', values: epochs.map(() => 16) },
  }));
  return dir;
}

function study(measures: boolean) {
  const root = mkdtempSync(join(tmpdir(), 'lw-measures-'));
  const baseline: TaskResult[] = [1, 2].map((s) => ({
    dir: writeRun(root, `base-s${s}`, s, range(1, 6), (l, e) => baseRho(l, e, s), null, measures),
    key: `base-${s}`, stage: 'train/behavior', params: { seed: s }, condition: { seed: s },
  }));
  const runs: TaskResult[] = [1, 2].map((s) => ({
    dir: writeRun(root, `run-s${s}`, s, range(3, 6), (l, e) => baseRho(l, e, s) + runDelta(l, e), 3, measures),
    key: `run-${s}`, stage: 'train/behavior', params: { seed: s, perturb: { type: 'random_target', start: 3, length: 1, seed: 42 } }, condition: { seed: s },
  }));
  return { root, baseline, runs };
}

describe('per-epoch measures in the analysis', () => {
  const params = AnalysisParams.parse({ fig2Epochs: [3], recoveryThreshold: 1.05 });

  it('reads layer_rsa and epoch_measures and computes each layer\'s Δρ against its own seed\'s baseline', () => {
    const s = loadStudyFromTasks(study(true));
    expect(s.problems).toEqual([]);
    expect(s.arms[0]!.baselines[0]!.measures!.layers).toHaveLength(18);
    expect(s.arms[0]!.baselines[1]!.measures!.fisher!.map((f) => f.fisher_trace)).toEqual(range(1, 6).map((e) => 100 / e + 2));
    const results = analyzeStudy(s, params);
    expect(results.layerEffects).toHaveLength(6);
    for (const e of results.layerEffects) {
      expect(e.epoch).toBe(3);
      expect(e.delta_rsa).toBeCloseTo(-0.05 * e.layer, 12);
      expect(e.end_epoch).toBe(6);
      expect(e.delta_rsa_end).toBeCloseTo(-0.01 * e.layer, 12);
    }
    expect(results.layerEffects.map((e) => `${e.seed} ${e.layer_name}`)).toEqual(['1 block0', '1 block1', '1 output', '2 block0', '2 block1', '2 output']);
    expect(buildFigures(s.arms, results, params).map((f) => f.id)).toEqual(expect.arrayContaining(['fig6_layer_rsa', 'fig7_layer_effects', 'fig8_fisher']));
  });

  it('the findings say which layer moves most and how the Fisher trace evolves', () => {
    const s = loadStudyFromTasks(study(true));
    const notes = buildFindings(s.arms, analyzeStudy(s, params), params).models[0]!.notes;
    expect(notes).toContain('Layer-wise RSA (Fig 7, layer_effects.csv): at the last perturbed epoch, averaged over 2 runs, ρ moves most at output (mean Δρ −0.100); by layer block0 +0.000, block1 −0.050, output −0.100; by the runs\' last epochs output is at −0.020.');
    // mean over seeds 1, 2 of 100/e + s: 101.5 at epoch 1, 18.17 at epoch 6
    expect(notes).toContain('Fisher information (Fig 8, probe of 16 training items): the baselines\' mean trace peaks at epoch 1 (102) and is 18.2 at epoch 6, 5.6× lower.');
    expect(buildFindings(loadStudyFromTasks(study(false)).arms, analyzeStudy(loadStudyFromTasks(study(false)), params), params).models[0]!.notes.join(' ')).not.toMatch(/Fig 7|Fig 8/);
  });

  it('runs without the files have no measures, no new figures and no problems', () => {
    const s = loadStudyFromTasks(study(false));
    const results = analyzeStudy(s, params);
    expect(results.problems).toEqual([]);
    expect(results.layerEffects).toEqual([]);
    const ids = buildFigures(s.arms, results, params).map((f) => f.id);
    expect(ids).not.toContain('fig6_layer_rsa');
    expect(ids).not.toContain('fig7_layer_effects');
    expect(ids).not.toContain('fig8_fisher');
  });

  it('an unreadable or malformed measures file is a problem of that run; its metrics are still analysed', () => {
    const inputs = study(true);
    writeFileSync(join(inputs.runs[0]!.dir, 'layer_rsa.arrow'), 'not arrow');
    writeFileSync(join(inputs.baseline[1]!.dir, 'epoch_measures.arrow'), arrow({
      epoch: { type: 'int', values: [1] }, fisher_trace: { type: 'float', values: [-1] }, fisher_probe: { type: 'int', values: [16] },
    }));
    const s = loadStudyFromTasks(inputs);
    expect(s.problems.map((p) => p.message)).toEqual([expect.stringMatching(/epoch_measures\.arrow: row 0: fisher_trace/), expect.stringMatching(/layer_rsa\.arrow: not a readable Arrow file/)]);
    expect(analyzeStudy(s, params).effects).toHaveLength(2);
  });

  it('writes the figures, layer_effects.csv and a report that shows them', async () => {
    const inputs = study(true);
    const out = join(inputs.root, 'report');
    const summary = await writeAnalysis(out, loadStudyFromTasks(inputs), params, { inputs: [] }, () => {});
    expect(summary.problems).toBe(0);
    for (const f of ['fig6_layer_rsa.png', 'fig7_layer_effects.png', 'fig8_fisher.png', 'layer_effects.csv']) expect(existsSync(join(out, f))).toBe(true);
    expect(readFileSync(join(out, 'layer_effects.csv'), 'utf8').split('\n')[0]).toBe('model,run,seed,type,start,length,layer,layer_name,epoch,delta_rsa,end_epoch,delta_rsa_end');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    for (const id of ['fig6_layer_rsa', 'fig7_layer_effects', 'fig8_fisher']) expect(html).toContain(`<figure id="${id}">`);
    expect(html).not.toContain('Problems (');
  });
});
