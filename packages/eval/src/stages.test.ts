import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { Rng, isUserError, sharedDir, type StageContext, type TaskResult } from '@lw/core';
import { writeFeaturesArrow, writeRdmArrow } from './arrow-io.js';
import { loadFeatures, loadHumanRdm } from './load.js';
import { rsa } from './rsa.js';
import { squareForm } from './rdm.js';
import { rsaParams, rsaStage, type RsaParams } from './stages.js';
import { stages } from './registry.js';

const things = join(sharedDir(), 'data', 'things');

function task(dir: string, stage: string): TaskResult {
  return { dir, key: stage.replace('/', '-'), stage, params: {}, condition: {} };
}

function context(params: RsaParams, run: string, data: string, outDir: string): StageContext<RsaParams> {
  const logs: string[] = [];
  return {
    params, inputs: { run: task(run, 'train/behavior'), data: task(data, 'data/things') }, outDir,
    taskKey: 'k', taskName: 'rsa', log: (m) => logs.push(m), progress: () => {}, signal: new AbortController().signal,
    scratchDir: outDir, threads: 1, gpus: [], record: () => {},
  };
}

describe('stage eval/rsa', () => {
  const root = mkdtempSync(join(tmpdir(), 'lw-eval-stage-'));
  const human = loadHumanRdm(join(things, 'RDM48_triplet.mat'));
  const spose = loadFeatures(join(things, 'spose_embedding66d_rescaled_48val_reordered.csv'));
  const ids = spose.ids!;
  const data = join(root, 'data'), run = join(root, 'run');
  mkdirSync(data); mkdirSync(join(run, 'embeddings'), { recursive: true });
  writeRdmArrow(join(data, 'human_rdm.arrow'), ids, squareForm(human.upper, 48));
  // Epoch N: the SPoSE embedding plus noise that shrinks with N, as float32 like a model writes it.
  const epochs = [0, 1, 2, 10];
  const featuresAt = new Map<number, Float32Array>();
  for (const e of epochs) {
    const noise = new Rng(1, 'noise', e).normals(48 * 66, 0, 40 / (e + 1));
    const f = Float32Array.from(spose.features, (v, k) => v + noise[k]);
    featuresAt.set(e, f);
    writeFeaturesArrow(join(run, 'embeddings', `epoch${e}.arrow`), ids, f, 66);
  }

  it('is registered and its params default to the study\'s method', () => {
    expect(stages.map((s) => s.id)).toEqual(['eval/rsa', 'eval/cka']);
    expect(rsaParams.parse({})).toEqual({ metric: 'correlation', compare: 'spearman', permutations: 0, bootstrap: 0, seed: 0 });
    expect(() => rsaParams.parse({ metrc: 'cosine' })).toThrow();
  });

  it('scores every epoch and writes rsa.csv and rsa.arrow', async () => {
    const out = join(root, 'out1'); mkdirSync(out);
    const params = rsaParams.parse({ bootstrap: 50, permutations: 20, seed: 2 });
    const summary = await rsaStage.run(context(params, run, data, out));
    const expected = epochs.map((e) => rsa(featuresAt.get(e)!, 48, 66, human, params));
    const lines = readFileSync(join(out, 'rsa.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('epoch,rho,p,n_pairs,p_perm,ci_low,ci_high');
    expect(lines.slice(1).map((l) => l.split(',').map(Number))).toEqual(
      expected.map((r, k) => [epochs[k], r.rho, r.p, 1128, r.pPerm, r.ci![0], r.ci![1]]));
    const table = tableFromIPC(readFileSync(join(out, 'rsa.arrow')));
    expect(table.numRows).toBe(4);
    expect(Array.from(table.getChild('epoch')!.toArray())).toEqual(epochs);
    expect(table.getChild('rho')!.get(3)).toBe(expected[3].rho);
    expect(summary).toMatchObject({ epochs: 4, bestEpoch: 10, lastRho: expected[3].rho });
    // less noise, more human-like: the RSA rises with epoch here
    expect(expected[3].rho).toBeGreaterThan(expected[0].rho);
    // The provenance file is the task runner's (@lw/core writeTaskParamsFile), not the stage's.
    expect(existsSync(join(out, 'params.json'))).toBe(false);
  });

  it('leaves p_perm and the CI empty when not asked', async () => {
    const out = join(root, 'out2'); mkdirSync(out);
    await rsaStage.run(context(rsaParams.parse({}), run, data, out));
    expect(readFileSync(join(out, 'rsa.csv'), 'utf8').split('\n')[1]).toMatch(/^0,[^,]+,[^,]+,1128,,,$/);
    const table = tableFromIPC(readFileSync(join(out, 'rsa.arrow')));
    expect(table.getChild('p_perm')!.get(0)).toBeNull();
  });

  it('refuses embeddings whose stimuli are not in the RDM order, naming file and row', async () => {
    const bad = join(root, 'badrun'); mkdirSync(join(bad, 'embeddings'), { recursive: true });
    const swapped = [ids[1], ids[0], ...ids.slice(2)];
    writeFeaturesArrow(join(bad, 'embeddings', 'epoch1.arrow'), swapped, featuresAt.get(1)!, 66);
    const out = join(root, 'out3'); mkdirSync(out);
    const err = await rsaStage.run(context(rsaParams.parse({}), bad, data, out)).catch((e) => e);
    expect(isUserError(err)).toBe(true);
    expect(err.message).toMatch(/epoch1\.arrow: row 1 is stimulus "[^"]+" but row 1 of .*human_rdm\.arrow is "pizza_01b\.jpg"/);
  });

  it('refuses an epoch with NaN or a constant row instead of writing rho NaN, naming the file and stimulus', async () => {
    const bad = join(root, 'collapsed'); mkdirSync(join(bad, 'embeddings'), { recursive: true });
    writeFeaturesArrow(join(bad, 'embeddings', 'epoch0.arrow'), ids, featuresAt.get(0)!, 66);
    const flat = Float32Array.from(featuresAt.get(1)!);
    flat.fill(2, 7 * 66, 8 * 66);
    writeFeaturesArrow(join(bad, 'embeddings', 'epoch1.arrow'), ids, flat, 66);
    const out = join(root, 'out4'); mkdirSync(out);
    const err = await rsaStage.run(context(rsaParams.parse({}), bad, data, out)).catch((e) => e);
    expect(isUserError(err)).toBe(true);
    expect(err.message).toBe(`${join(bad, 'embeddings', 'epoch1.arrow')}: row 8 of 48 (${ids[7]}) is constant (every feature is 2), so its correlation distance (1 - Pearson) to the other rows is undefined`);
    const nan = Float32Array.from(featuresAt.get(2)!);
    nan[40 * 66 + 3] = NaN;
    writeFeaturesArrow(join(bad, 'embeddings', 'epoch1.arrow'), ids, nan, 66);
    const err2 = await rsaStage.run(context(rsaParams.parse({}), bad, data, out)).catch((e) => e);
    expect(err2.message).toBe(`${join(bad, 'embeddings', 'epoch1.arrow')}: row 41 of 48 (${ids[40]}) has NaN at feature 4 of 66`);
  });
});
