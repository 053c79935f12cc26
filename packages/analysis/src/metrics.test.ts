import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bool, Float64, Int32, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { isUserError } from '@lw/core';
import { parseMetricsCsv } from './metrics.js';
import { readMetricsArrow } from './metrics-arrow.js';
import { discoverLengths, discoverSweep, discoverTypes, findMetricsFile, type Problem } from './runs.js';

const BASE = 'epoch,train_loss,test_loss,behavioral_rsa_rho,behavioral_rsa_p_value';
const FLAGS = ['used_random_targets', 'used_shuffled_targets', 'used_uniform_images', 'used_image_noise'];

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(isUserError(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

describe('parseMetricsCsv', () => {
  it('reads the 5-column baseline layout', () => {
    const t = parseMetricsCsv(`${BASE}\n1,2.5,3.5,0.4,1e-5\n2,2,3,0.5,1e-6\n`, 'b.csv');
    expect(t.rows).toEqual([
      { epoch: 1, train_loss: 2.5, test_loss: 3.5, rsa: 0.4, rsa_p: 1e-5, perturbed: null },
      { epoch: 2, train_loss: 2, test_loss: 3, rsa: 0.5, rsa_p: 1e-6, perturbed: null },
    ]);
  });

  it.each([
    [7, 'True,False', 'random_target'],
    [7, 'False,True', 'label_shuffle'],
    [8, 'False,False,True', 'blank_image'],
    [9, 'False,False,False,True', 'image_noise'],
  ])('reads the %i-column layout with flags %s as %s', (columns, flags, type) => {
    const header = [BASE, ...FLAGS.slice(0, columns - 5)].join(',');
    const t = parseMetricsCsv(`${header}\n15,1,2,0.5,0.01,${flags}\n16,1,2,0.6,0.01,${flags.replaceAll('True', 'False')}\n`, 'r.csv');
    expect(t.rows.map((r) => [r.epoch, r.perturbed])).toEqual([
      [15, type],
      [16, null],
    ]);
  });

  it('reads our train/classify layout, val_loss as the loss', () => {
    const t = parseMetricsCsv('epoch,train_loss,val_loss,val_acc,rsa_rho,rsa_p_value,perturbation,perturb_epoch\n5,6.1,6.9,0.12,0.33,0.001,gaussian,5\n', 'm.csv');
    expect(t.rows[0]).toEqual({ epoch: 5, train_loss: 6.1, test_loss: 6.9, rsa: 0.33, rsa_p: 0.001, perturbed: null });
  });

  it('names file and line for every kind of damage', () => {
    expect(errorOf(() => parseMetricsCsv('epoch,loss\n1,2\n', 'a.csv'))).toMatch(/^a\.csv:1: unrecognised metrics header/);
    expect(errorOf(() => parseMetricsCsv(`${BASE}\n1,2,3,0.4,0.1\n2,2,x,0.4,0.1\n`, 'b.csv'))).toMatch(/^b\.csv:3: column test_loss is "x"/);
    expect(errorOf(() => parseMetricsCsv(`${BASE}\n1,2,3,0.4\n`, 'c.csv'))).toMatch(/^c\.csv:2: 4 fields, the header has 5/);
    expect(errorOf(() => parseMetricsCsv(`${BASE},used_random_targets,used_shuffled_targets\n1,2,3,0.4,0.1,true,False\n`, 'd.csv'))).toMatch(
      /^d\.csv:2: column used_random_targets is "true"/,
    );
    expect(errorOf(() => parseMetricsCsv(`${BASE}\n2,2,3,0.4,0.1\n2,2,3,0.4,0.1\n`, 'e.csv'))).toMatch(/^e\.csv:3: epoch 2 follows epoch 2/);
    expect(errorOf(() => parseMetricsCsv(`${BASE}\n`, 'f.csv'))).toMatch(/^f\.csv: no data rows/);
    // Flags out of the study's order are not a layout the study wrote.
    expect(errorOf(() => parseMetricsCsv(`${BASE},used_shuffled_targets,used_random_targets\n1,2,3,0.4,0.1,False,False\n`, 'g.csv'))).toMatch(/^g\.csv:1:/);
  });
});

describe('readMetricsArrow', () => {
  it('reads our metrics.arrow with boolean flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-analysis-arrow-'));
    const table = new Table({
      epoch: vectorFromArray([3, 4], new Int32()),
      train_loss: vectorFromArray([1.5, 1.25], new Float64()),
      test_loss: vectorFromArray([2.5, 2.25], new Float64()),
      behavioral_rsa_rho: vectorFromArray([0.5, 0.625], new Float64()),
      behavioral_rsa_p_value: vectorFromArray([0.01, 0.001], new Float64()),
      used_random_targets: vectorFromArray([false, false], new Bool()),
      used_shuffled_targets: vectorFromArray([true, false], new Bool()),
    });
    writeFileSync(join(dir, 'metrics.arrow'), tableToIPC(table, 'file'));
    const t = readMetricsArrow(join(dir, 'metrics.arrow'));
    expect(t.rows).toEqual([
      { epoch: 3, train_loss: 1.5, test_loss: 2.5, rsa: 0.5, rsa_p: 0.01, perturbed: 'label_shuffle' },
      { epoch: 4, train_loss: 1.25, test_loss: 2.25, rsa: 0.625, rsa_p: 0.001, perturbed: null },
    ]);
    expect(findMetricsFile(dir)).toBe(join(dir, 'metrics.arrow'));
  });
});

const header7 = `${BASE},used_random_targets,used_shuffled_targets`;
function writeRun(dir: string, file: string, start: number, flags = 'True,False', epochs = 3): void {
  mkdirSync(dir, { recursive: true });
  const rows = Array.from({ length: epochs }, (_, i) => `${start + i},1,${10 - i},0.5,0.01,${i === 0 ? flags : 'False,False'}`);
  writeFileSync(join(dir, file), [header7, ...rows].join('\n') + '\n');
}

describe('study folder conventions', () => {
  it('finds runs by folder name, with either file name, rows starting at the perturbed epoch', () => {
    const root = mkdtempSync(join(tmpdir(), 'lw-analysis-folders-'));
    writeRun(join(root, 'sweep', 'training_run7'), 'training_res_run7.csv', 7);
    writeRun(join(root, 'sweep'), 'training_res_run9.csv', 9);
    writeRun(join(root, 'lengths', 'random_target_e3_l5'), 'metrics.csv', 3);
    writeRun(join(root, 'lengths', 'random_target_e4_l2'), 'training_res.csv', 4);
    writeRun(join(root, 'types', 'label_shuffle'), 'training_res_run15.csv', 15, 'False,True');
    writeRun(join(root, 'types', 'target_noise', 'training_run5'), 'training_res_run5.csv', 5);
    const problems: Problem[] = [];
    const sweep = discoverSweep(join(root, 'sweep'), problems);
    const lengths = discoverLengths(join(root, 'lengths'), problems);
    const types = discoverTypes(join(root, 'types'), problems);
    expect(problems).toEqual([]);
    expect(sweep.map((r) => [r.condition.type, r.condition.start, r.condition.length, r.table.rows[0]!.epoch])).toEqual([
      ['random_target', 7, 1, 7],
      ['random_target', 9, 1, 9],
    ]);
    expect(lengths.map((r) => [r.condition.start, r.condition.length, r.table.file.split('/').pop()])).toEqual([
      [3, 5, 'metrics.csv'],
      [4, 2, 'training_res.csv'],
    ]);
    expect(types.map((r) => [r.condition.type, r.condition.start])).toEqual([
      ['label_shuffle', 15],
      ['random_target', 5],
    ]);
  });

  it('reports a bad run by name and still returns the others', () => {
    const root = mkdtempSync(join(tmpdir(), 'lw-analysis-bad-'));
    writeRun(join(root, 'random_target_e1_l2'), 'training_res.csv', 1);
    mkdirSync(join(root, 'random_target_e2_l2'));
    writeRun(join(root, 'random_target_e3_l2'), 'training_res.csv', 3, 'False,True');
    writeRun(join(root, 'random_target_e6_l2'), 'training_res.csv', 7);
    writeFileSync(join(root, 'random_target_e8_l2'), 'a file where a run folder should be');
    mkdirSync(join(root, 'random_target_e9_l2'));
    writeFileSync(join(root, 'random_target_e9_l2', 'training_res.csv'), `${header7}\n9,1,2,0.5\n`);
    const problems: Problem[] = [];
    const runs = discoverLengths(root, problems);
    expect(runs.map((r) => r.condition.start)).toEqual([1]);
    expect(problems.map((p) => p.source.split('/').pop())).toEqual(['random_target_e2_l2', 'random_target_e3_l2', 'random_target_e6_l2', 'random_target_e8_l2', 'random_target_e9_l2']);
    expect(problems[0]!.message).toMatch(/no metrics file/);
    expect(problems[1]!.message).toMatch(/flags mark label_shuffle at epoch 3, the folder name says random_target at epoch 3/);
    expect(problems[2]!.message).toMatch(/rows start at epoch 7, after the perturbed epoch 6/);
    expect(problems[4]!.message).toMatch(/training_res\.csv:2: 4 fields/);
  });
});
