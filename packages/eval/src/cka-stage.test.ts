import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, FixedSizeList, Float32, Table, Utf8, makeData, makeVector, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { Rng, isUserError, sharedDir, type StageContext, type TaskResult } from '@lw/core';
import { writeFeaturesArrow, writeRdmArrow } from './arrow-io.js';
import { cka } from './cka.js';
import { CKA_RUN_FILE, CkaRunInfo, ckaParams, ckaStage, type CkaParams } from './cka-stage.js';
import { readHumanEmbedding } from './human-embedding.js';
import { loadFeatures, loadHumanRdm } from './load.js';
import { squareForm } from './rdm.js';

const things = join(sharedDir(), 'data', 'things');

function task(dir: string, stage: string): TaskResult {
  return { dir, key: stage.replace('/', '-'), stage, params: stage.startsWith('train/') ? { seed: 3 } : {}, condition: {} };
}

function context(params: CkaParams, run: string, data: string, outDir: string): StageContext<CkaParams> {
  return {
    params, inputs: { run: task(run, 'train/behavior'), data: task(data, 'data/things') }, outDir,
    taskKey: 'k', taskName: 'cka', log: () => {}, progress: () => {}, signal: new AbortController().signal,
    scratchDir: outDir, threads: 1, gpus: [], record: () => {},
  };
}

/** A test shard as data/things writes it (only the columns eval reads: id and target FixedSizeList<Float32>[66]). */
function writeTargetShard(path: string, ids: string[], targets: Float32Array, dim: number): void {
  const child = makeData({ type: new Float32(), length: targets.length, nullCount: 0, data: targets });
  const target = makeVector(makeData({ type: new FixedSizeList(dim, new Field('item', new Float32(), false)), length: ids.length, nullCount: 0, child }));
  writeFileSync(path, tableToIPC(new Table({ id: vectorFromArray(ids, new Utf8()), target }), 'file'));
}

describe('stage eval/cka', () => {
  const root = mkdtempSync(join(tmpdir(), 'lw-eval-cka-'));
  const human = loadHumanRdm(join(things, 'RDM48_triplet.mat'));
  const spose = loadFeatures(join(things, 'spose_embedding66d_rescaled_48val_reordered.csv'));
  const ids = spose.ids!;
  const data = join(root, 'data'), run = join(root, 'run');
  mkdirSync(data); mkdirSync(join(run, 'embeddings'), { recursive: true });
  writeRdmArrow(join(data, 'human_rdm.arrow'), ids, squareForm(human.upper, 48));
  // The 48 test items in two shards (30 + 18), as a real set may split them; float32 as stored.
  const spose32 = Float32Array.from(spose.features);
  writeTargetShard(join(data, 'test-0.arrow'), ids.slice(0, 30), spose32.subarray(0, 30 * 66), 66);
  writeTargetShard(join(data, 'test-1.arrow'), ids.slice(30), spose32.subarray(30 * 66), 66);
  const shard = (file: string, split: string) => ({ file, split, rows: 0, bytes: 0, sha256: '0'.repeat(64) });
  writeFileSync(join(data, 'manifest.json'), JSON.stringify({ format: 'lw-data/1', targetDim: 66, shards: [shard('train-0.arrow', 'train'), shard('test-0.arrow', 'test'), shard('test-1.arrow', 'test')] }));
  const epochs = [1, 2, 5];
  const featuresAt = new Map<number, Float32Array>();
  for (const e of epochs) {
    // A model-like 20-d representation: a random projection of SPoSE plus noise shrinking with the epoch.
    const proj = new Rng(3, 'proj').normals(66 * 20, 0, 1);
    const noise = new Rng(1, 'noise', e).normals(48 * 20, 0, 60 / e);
    const f = new Float32Array(48 * 20);
    for (let i = 0; i < 48; i++) for (let j = 0; j < 20; j++) {
      let s = noise[i * 20 + j];
      for (let k = 0; k < 66; k++) s += spose.features[i * 66 + k] * proj[k * 20 + j];
      f[i * 20 + j] = s;
    }
    featuresAt.set(e, f);
    writeFeaturesArrow(join(run, 'embeddings', `epoch${e}.arrow`), ids, f, 20);
  }

  it('reads the human embedding from the test shards in manifest order', () => {
    const h = readHumanEmbedding(data);
    expect([h.n, h.d]).toEqual([48, 66]);
    expect(h.ids).toEqual(ids);
    expect(Array.from(h.features)).toEqual(Array.from(spose32));
  });

  it('scores every epoch (linear) and writes cka.csv and cka.arrow that agree with cka()', async () => {
    const out = join(root, 'out-linear'); mkdirSync(out);
    const summary = await ckaStage.run(context(ckaParams.parse({}), run, data, out));
    const expected = epochs.map((e) => cka({ features: featuresAt.get(e)!, n: 48, d: 20 }, { features: spose32, n: 48, d: 66 }).cka);
    const lines = readFileSync(join(out, 'cka.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('epoch,kernel,unbiased,cka,sigma,sigma_model,sigma_human,n');
    expect(lines.slice(1).map((l) => l.split(','))).toEqual(expected.map((c, k) => [String(epochs[k]), 'linear', 'false', String(c), '', '', '', '48']));
    // Less noise, closer to the human embedding.
    expect(expected[0]).toBeLessThan(expected[1]);
    expect(expected[1]).toBeLessThan(expected[2]);
    const table = tableFromIPC(readFileSync(join(out, 'cka.arrow')));
    expect(table.schema.fields.map((f) => f.name)).toEqual(['epoch', 'kernel', 'unbiased', 'cka', 'sigma', 'sigma_model', 'sigma_human', 'n']);
    expect(Array.from(table.getChild('cka')!.toArray() as Float64Array)).toEqual(expected);
    expect(summary).toMatchObject({ epochs: 3, bestEpoch: 5, bestCka: expected[2] });
    // Which run it scored, for the report's pairing with that run's RSA.
    expect(CkaRunInfo.parse(JSON.parse(readFileSync(join(out, CKA_RUN_FILE), 'utf8')))).toEqual({ stage: 'train/behavior', key: 'train-behavior', seed: 3 });
  });

  it('records both bandwidths for RBF and the fraction used', async () => {
    const out = join(root, 'out-rbf'); mkdirSync(out);
    await ckaStage.run(context(ckaParams.parse({ kernel: 'rbf', sigma: 0.4, unbiased: true }), run, data, out));
    const row = readFileSync(join(out, 'cka.csv'), 'utf8').trim().split('\n')[1].split(',');
    const ref = cka({ features: featuresAt.get(1)!, n: 48, d: 20 }, { features: spose32, n: 48, d: 66 }, { kernel: 'rbf', sigma: 0.4, unbiased: true });
    expect(row).toEqual(['1', 'rbf', 'true', String(ref.cka), '0.4', String(ref.sigmaX), String(ref.sigmaY), '48']);
  });

  it('names the file when the data set has no targets or the stimuli are out of order', async () => {
    const bare = join(root, 'bare'); mkdirSync(bare);
    writeFileSync(join(bare, 'manifest.json'), JSON.stringify({ format: 'lw-data/1', shards: [] }));
    let err: unknown;
    try { readHumanEmbedding(bare); } catch (e) { err = e; }
    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toContain(join(bare, 'manifest.json'));
    expect((err as Error).message).toContain('targetDim');

    const shuffled = join(root, 'shuffled'); mkdirSync(join(shuffled, 'embeddings'), { recursive: true });
    const swapped = [ids[1], ids[0], ...ids.slice(2)];
    writeFeaturesArrow(join(shuffled, 'embeddings', 'epoch1.arrow'), swapped, featuresAt.get(1)!, 20);
    const out = join(root, 'out-bad'); mkdirSync(out);
    await expect(ckaStage.run(context(ckaParams.parse({}), shuffled, data, out))).rejects.toThrow(/row 1 is stimulus/);
  });
});
