import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TaskResult } from '@lw/core';
import { readCheckpoint } from '../checkpoint.js';
import { makePretrainedClip, makeToy, stageContext, task, tempDir } from '../testing/fixtures.js';
import { behaviorParams, type BehaviorParams } from './params.js';
import { behaviorStage } from './stage.js';
import { featuresParams, featuresStage } from '../features/stage.js';
import { tableFromIPC } from 'apache-arrow';
import { ckaMatrix, readFeaturesArrow, rsa } from '@lw/eval';
import { tf } from '@lw/models';
import { loadSavedClip } from '../model-store.js';
import { openTrainData } from '../open-data.js';

/**
 * train/behavior on a small toy set (252 train+val items at 8x8 px, 48 test items) with a micro CLIP
 * pretrained contrastively on it (as the default study does): every run trains a few epochs of
 * well under a second each.
 */
let data: TaskResult, model: TaskResult;
beforeAll(async () => {
  data = makeToy({ images: 300, size: 8 });
  model = await makePretrainedClip(data);
});

async function runBehavior(params: Partial<BehaviorParams> & Record<string, unknown>, extra: { resume?: TaskResult; features?: TaskResult; scratch?: string; abortAfterEpoch?: number } = {}) {
  const p = behaviorParams.parse({ epochs: 6, patience: 50, lr: 1e-2, ...params });
  const ctx = stageContext(p, { data, model, ...(extra.resume ? { resume: extra.resume } : {}), ...(extra.features ? { features: extra.features } : {}) }, extra);
  const summary = await behaviorStage.run(ctx);
  return { ctx, summary, csv: readFileSync(join(ctx.outDir, 'metrics.csv'), 'utf8') };
}
const rowsOf = (csv: string) => csv.trim().split('\n').slice(1).map((l) => l.split(','));
const bytes = (dir: string, epoch: number) => readFileSync(join(dir, 'checkpoints', `epoch${epoch}.safetensors`));

describe('train/behavior', () => {
  let baseline: Awaited<ReturnType<typeof runBehavior>>;
  beforeAll(async () => {
    baseline = await runBehavior({});
  });

  it('writes the study layout: 9 columns, epochs 1..6, no flags set', () => {
    const lines = baseline.csv.trim().split('\n');
    expect(lines[0]).toBe('epoch,train_loss,test_loss,behavioral_rsa_rho,behavioral_rsa_p_value,used_random_targets,used_shuffled_targets,used_uniform_images,used_image_noise');
    expect(rowsOf(baseline.csv).map((r) => r[0])).toEqual(['1', '2', '3', '4', '5', '6']);
    for (const r of rowsOf(baseline.csv)) expect(r.slice(5)).toEqual(['False', 'False', 'False', 'False']);
    expect(baseline.summary.trainable).toBeGreaterThan(0);
    expect(baseline.ctx.progressed.at(-1)).toEqual([6, 6]);
  });

  it('lowers validation MSE and raises RSA from its epoch-1 value', () => {
    const rows = rowsOf(baseline.csv).map((r) => r.slice(0, 5).map(Number));
    const initial = Number(/initial test loss (\S+)/.exec(baseline.ctx.lines.join('\n'))![1]);
    // Measured: 1591 initially, 1458 after epoch 1, 725 after epoch 6. Halving the validation MSE
    // is learning; a model that only drifted would stay within a few percent.
    expect(rows[5][2]).toBeLessThan(0.6 * initial);
    expect(rows[5][2]).toBeLessThan(0.7 * rows[0][2]);
    // Measured: rho 0.2961, 0.2994, 0.3025, 0.3045 over epochs 1-4, then 0.3028, 0.2992 (the human RDM
    // has 1128 pairs; this 8 px micro CLIP has little room to align). The bar: a rise in every one of
    // the first four epochs, 0.005 in all, not one lucky epoch.
    for (let e = 1; e < 4; e++) expect(rows[e][3]).toBeGreaterThan(rows[e - 1][3]);
    expect(rows[3][3]).toBeGreaterThan(rows[0][3] + 0.005);
  });

  it('writes checkpoints 0..6 and embeddings 1..6 (48 x 66 predictions)', () => {
    for (let e = 0; e <= 6; e++) expect(bytes(baseline.ctx.outDir, e).length).toBeGreaterThan(0);
    const ck = readCheckpoint(join(baseline.ctx.outDir, 'checkpoints'), 6);
    expect(ck.info.optimizer).toEqual({ kind: 'adamw', step: 6 * 4 });
    expect([...ck.params.keys()].every((k) => /^clip_model\..*attn\.out_proj\.(m|delta_D_A|delta_D_B)$/.test(k))).toBe(true);
    expect(readFileSync(join(baseline.ctx.outDir, 'embeddings', 'epoch6.arrow')).length).toBeGreaterThan(48 * 66 * 4);
    // Provenance goes through ctx.record (the task runner writes params.json), not a file of the stage's.
    expect(existsSync(join(baseline.ctx.outDir, 'params.json'))).toBe(false);
    expect(baseline.ctx.recorded).toMatchObject({ backend: { name: expect.any(String) }, model: 'micro-clip', featureCache: false });
  });

  it('6 epochs straight == 3 epochs, a kill, and a rerun that resumes, bit for bit', async () => {
    const scratch = tempDir('lw-scratch-');
    await expect(runBehavior({}, { scratch, abortAfterEpoch: 3 })).rejects.toThrow(/stopped after epoch 3/);
    const resumed = await runBehavior({}, { scratch });
    expect(resumed.ctx.lines.join('\n')).toMatch(/resuming in place after epoch 3/);
    expect(resumed.csv).toBe(baseline.csv);
    for (const e of [4, 6]) expect(bytes(resumed.ctx.outDir, e).equals(bytes(baseline.ctx.outDir, e))).toBe(true);
  });

  it('a perturbed run equals the baseline exactly before its window, and resuming from baseline@epoch(E-1) equals running through', async () => {
    const perturb = { type: 'random_target', start: 4, length: 2 };
    const through = await runBehavior({ perturb });
    const rowsB = rowsOf(baseline.csv), rowsT = rowsOf(through.csv);
    expect(rowsT.slice(0, 3)).toEqual(rowsB.slice(0, 3));
    for (const e of [0, 3]) expect(bytes(through.ctx.outDir, e).equals(bytes(baseline.ctx.outDir, e))).toBe(true);
    expect(rowsT[3]).not.toEqual(rowsB[3]);
    expect(rowsT.map((r) => r[5])).toEqual(['False', 'False', 'False', 'True', 'True', 'False']);

    const resumed = await runBehavior({ perturb }, { resume: task(baseline.ctx.outDir, 'train/behavior', {}, 3) });
    expect(rowsOf(resumed.csv)).toEqual(rowsT.slice(3));
    expect(bytes(resumed.ctx.outDir, 6).equals(bytes(through.ctx.outDir, 6))).toBe(true);
    expect(resumed.ctx.lines.join('\n')).toMatch(/best test loss reset to 500000/);
  });

  for (const type of ['label_shuffle', 'image_noise', 'blank_image'] as const) {
    it(`${type}: flags only in the window, training changes there, validation stays clean`, async () => {
      const run = await runBehavior({ epochs: 3, perturb: { type, start: 2 } });
      const rows = rowsOf(run.csv), base = rowsOf(baseline.csv);
      const flag = { label_shuffle: 6, blank_image: 7, image_noise: 8 }[type];
      expect(rows.map((r) => r[flag])).toEqual(['False', 'True', 'False']);
      expect(rows.map((r) => r.slice(5).filter((f) => f === 'True').length)).toEqual([0, 1, 0]);
      expect(rows[0]).toEqual(base[0]);
      expect(rows[1][1]).not.toBe(base[1][1]);
      // The logged test loss of the perturbed epoch is the clean validation MSE of its checkpoint.
      const ck = readCheckpoint(join(run.ctx.outDir, 'checkpoints'), 2);
      expect(ck.info.metrics!.test_loss).toBe(Number(rows[1][2]));
    });
  }

  it('stops with an error naming epoch and batch on a non-finite loss, keeping earlier checkpoints', async () => {
    const scratch = tempDir('lw-scratch-');
    await expect(runBehavior({ lr: 1e38 }, { scratch })).rejects.toThrow(/non-finite training loss .* at epoch \d+, batch \d+/);
    expect(readCheckpoint(join(scratch, 'checkpoints'), 0).info.epoch).toBe(0);
  });

  it('the frozen-prefix cache (float32) gives the same training as full forwards; float16 within its measured error', async () => {
    const features = async (dtype: 'float32' | 'float16') => {
      const ctx = stageContext(featuresParams.parse({ dtype, shardSize: 100 }), { data, model });
      const summary = await featuresStage.run(ctx);
      return { task: task(ctx.outDir, 'train/features'), summary };
    };
    const f32 = await features('float32');
    expect(f32.summary.images).toBe(300);
    const cached = await runBehavior({ epochs: 3 }, { features: f32.task });
    const rel = (a: string, b: string) => Math.abs(Number(a) - Number(b)) / Math.abs(Number(b));
    rowsOf(cached.csv).forEach((r, i) => {
      // same math in a different association order (prefix, then the rest): float32 rounding only
      expect(rel(r[2], rowsOf(baseline.csv)[i][2])).toBeLessThan(1e-4);
      expect(Math.abs(Number(r[3]) - Number(rowsOf(baseline.csv)[i][3]))).toBeLessThan(1e-3);
    });
    const f16 = await features('float16');
    const err = f16.summary.error as { maxRel: number; maxAbs: number };
    expect(err.maxRel).toBeGreaterThan(0);
    expect(err.maxRel).toBeLessThanOrEqual(2 ** -11); // half precision: 11 significant bits
    const half = await runBehavior({ epochs: 3 }, { features: f16.task });
    // Measured (3 epochs, 2026-11-29): train and validation loss within 1.4e-5 relative, rho within
    // 4.1e-5 of the float32 full-forward run; the bounds keep a margin of 25-75x for other backends.
    rowsOf(half.csv).forEach((r, i) => {
      const full = rowsOf(baseline.csv)[i];
      expect(rel(r[1], full[1])).toBeLessThan(1e-3);
      expect(rel(r[2], full[2])).toBeLessThan(1e-3);
      expect(Math.abs(Number(r[3]) - Number(full[3]))).toBeLessThan(1e-3);
    });
  });

  describe('layer-wise RSA and Fisher trace (params.layers, params.fisher)', () => {
    let measured: Awaited<ReturnType<typeof runBehavior>>;
    const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');
    beforeAll(async () => {
      measured = await runBehavior({ epochs: 3, layers: 'all', fisher: { probe: 8 }, layerFeatures: true });
    });

    it('leaves training and metrics unchanged', () => {
      expect(rowsOf(measured.csv)).toEqual(rowsOf(baseline.csv).slice(0, 3));
      expect(existsSync(join(baseline.ctx.outDir, 'layer_rsa.csv'))).toBe(false);
      expect(existsSync(join(baseline.ctx.outDir, 'epoch_measures.csv'))).toBe(false);
    });

    it('writes every block and the output per epoch; the output is metrics\' RSA exactly', () => {
      const lines = read(measured.ctx.outDir, 'layer_rsa.csv').trim().split('\n');
      expect(lines[0]).toBe('epoch,layer,layer_name,rsa_rho,rsa_p_value');
      const rows = lines.slice(1).map((l) => l.split(','));
      expect(rows.map((r) => r.slice(0, 3).join(' '))).toEqual(['1 0 block0', '1 1 block1', '1 2 output', '2 0 block0', '2 1 block1', '2 2 output', '3 0 block0', '3 1 block1', '3 2 output']);
      const metrics = rowsOf(measured.csv);
      const outputs = rows.filter((r) => r[2] === 'output');
      outputs.forEach((r, i) => expect(r.slice(3)).toEqual(metrics[i]!.slice(3, 5)));
      const arrow = tableFromIPC(readFileSync(join(measured.ctx.outDir, 'layer_rsa.arrow')));
      const metricsArrow = tableFromIPC(readFileSync(join(measured.ctx.outDir, 'metrics.arrow')));
      expect(arrow.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(['epoch:Int32', 'layer:Int32', 'layer_name:Utf8', 'rsa_rho:Float64', 'rsa_p_value:Float64']);
      const rho = arrow.getChild('rsa_rho')!.toArray() as Float64Array;
      expect([rho[2], rho[5], rho[8]]).toEqual([...(metricsArrow.getChild('behavioral_rsa_rho')!.toArray() as Float64Array)]);
      // block 0 is frozen (DoRA is on block 1): the same every epoch; block 1 trains.
      const block = (name: string) => rows.filter((r) => r[2] === name).map((r) => r[3]);
      expect(new Set(block('block0')).size).toBe(1);
      expect(new Set(block('block1')).size).toBe(3);
    });

    it('layerFeatures: saves each block\'s features every epoch, the ones layer_rsa scored, for CKA between layers', () => {
      const rows = read(measured.ctx.outDir, 'layer_rsa.csv').trim().split('\n').slice(1).map((l) => l.split(','));
      const human = openTrainData(data.dir).humanRdm!;
      const ids = openTrainData(data.dir).loadSplit('test').ids;
      for (const epoch of [1, 2, 3]) {
        const files = ['block0', 'block1'].map((b) => join(measured.ctx.outDir, 'layer_features', `epoch${epoch}`, `${b}.arrow`));
        const feats = files.map((f) => readFeaturesArrow(f));
        feats.forEach((f, k) => {
          expect(f.ids).toEqual(ids);
          const row = rows.find((r) => r[0] === String(epoch) && r[2] === `block${k}`)!;
          expect(rsa(f.features, f.n, f.d, human).rho).toBe(Number(row[3]));
        });
        // Layer x layer CKA: 1 on the diagonal, symmetric, below 1 between different blocks.
        const m = ckaMatrix(feats.map((f, k) => ({ ...f, name: files[k] })), { kernel: 'linear' });
        expect(m.matrix[0]).toBeCloseTo(1, 12);
        expect(m.matrix[1]).toBe(m.matrix[2]);
        expect(m.matrix[1]).toBeLessThan(1);
      }
      expect(existsSync(join(baseline.ctx.outDir, 'layer_features'))).toBe(false);
    });

    it('block 0 equals the RSA of the plain CLIP\'s CLS after block 0 from a full forward', async () => {
      const clip = loadSavedClip(model.dir);
      const test = openTrainData(data.dir).loadSplit('test');
      const [, H, W] = [test.count, 8, 8];
      const out = clip.visual.forward(tf.tensor4d(test.images, [test.count, H, W, 3]), { blockCls: true });
      const cls0 = (await out.blockCls![0]!.data()) as Float32Array;
      tf.dispose([out.cls, ...out.blockCls!]);
      const want = rsa(cls0, test.count, cls0.length / test.count, openTrainData(data.dir).humanRdm!);
      const got = read(measured.ctx.outDir, 'layer_rsa.csv').trim().split('\n')[1]!.split(',');
      expect(Number(got[3])).toBeCloseTo(want.rho, 6);
      clip.dispose();
    });

    it('writes the Fisher trace of each epoch on the 8-item probe, not in metrics', () => {
      const lines = read(measured.ctx.outDir, 'epoch_measures.csv').trim().split('\n');
      expect(lines[0]).toBe('epoch,fisher_trace,fisher_probe');
      const rows = lines.slice(1).map((l) => l.split(',').map(Number));
      expect(rows.map((r) => [r[0], r[2]])).toEqual([[1, 8], [2, 8], [3, 8]]);
      for (const r of rows) expect(Number.isFinite(r[1]) && r[1]! > 0).toBe(true);
      expect(new Set(rows.map((r) => r[1])).size).toBe(3);
      expect(measured.csv).not.toMatch(/fisher/);
    });

    it('a kill after epoch 2 and a rerun in place write the same tables', async () => {
      const scratch = tempDir('lw-scratch-');
      const params = { epochs: 3, layers: 'all', fisher: { probe: 8 } };
      await expect(runBehavior(params, { scratch, abortAfterEpoch: 2 })).rejects.toThrow(/stopped after epoch 2/);
      const resumed = await runBehavior(params, { scratch });
      for (const f of ['layer_rsa.csv', 'epoch_measures.csv']) expect(read(resumed.ctx.outDir, f)).toBe(read(measured.ctx.outDir, f));
    });

    it('from the feature cache: the same layer RSA and Fisher trace as from full forwards (float32 rounding)', async () => {
      const ctx = stageContext(featuresParams.parse({ dtype: 'float32', shardSize: 100 }), { data, model });
      await featuresStage.run(ctx);
      const cached = await runBehavior({ epochs: 3, layers: 'all', fisher: { probe: 8 } }, { features: task(ctx.outDir, 'train/features') });
      const rows = (dir: string, f: string) => read(dir, f).trim().split('\n').slice(1).map((l) => l.split(','));
      const a = rows(cached.ctx.outDir, 'layer_rsa.csv'), b = rows(measured.ctx.outDir, 'layer_rsa.csv');
      expect(a.map((r) => r.slice(0, 3))).toEqual(b.map((r) => r.slice(0, 3)));
      a.forEach((r, i) => expect(Math.abs(Number(r[3]) - Number(b[i]![3]))).toBeLessThan(1e-3));
      const fa = rows(cached.ctx.outDir, 'epoch_measures.csv'), fb = rows(measured.ctx.outDir, 'epoch_measures.csv');
      fa.forEach((r, i) => expect(Math.abs(Number(r[1]) / Number(fb[i]![1]) - 1)).toBeLessThan(1e-3));
    });

    it('frees every tensor it makes', async () => {
      const before = tf.memory().numTensors;
      await runBehavior({ epochs: 2, layers: 'all', fisher: { probe: 4 } });
      expect(tf.memory().numTensors).toBe(before);
    });

    it('rejects blocks the tower does not have, naming the param', async () => {
      await expect(runBehavior({ epochs: 1, layers: [0, 5] })).rejects.toThrow(/params\.layers: .*name blocks 5/);
    });
  });
});
