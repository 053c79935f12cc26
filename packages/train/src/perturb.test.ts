import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPerturbation, sharedDir } from '@lw/core';
import { epochFlags, inWindow, perturbBatch, perturbSpec, targetStats, type TrainBatch } from './perturb.js';

const B = 64, D = 66, PIX = 8 * 8 * 3;
function batch(): TrainBatch {
  const images = new Float32Array(B * PIX).map((_, i) => Math.sin(i));
  const targets = new Float32Array(B * D).map((_, i) => (i % 97) + 0.5);
  return { images, targets, batchSize: B };
}
const stats = { mean: 5.6906, std: 10.1787 };
function meanStd(a: Float32Array) {
  const s = targetStats(a);
  return s;
}

describe('perturbation window and flags', () => {
  const spec = perturbSpec.parse({ type: 'label_shuffle', start: 3, length: 2 });
  it('covers 1-based epochs start..start+length-1', () => {
    expect([1, 2, 3, 4, 5].map((e) => inWindow(spec, e))).toEqual([false, false, true, true, false]);
    expect(inWindow(undefined, 3)).toBe(false);
  });
  it('is what the analysis reads back from params.perturb (@lw/core readPerturbation)', () => {
    expect(readPerturbation({ perturb: spec })).toEqual({ kind: 'label_shuffle', type: 'label_shuffle', start: 3, length: 2, seed: 42 });
  });
  it('defaults length 1, seed 42, distribution target', () => {
    expect(perturbSpec.parse({ type: 'random_target', start: 1 })).toEqual({ type: 'random_target', start: 1, length: 1, seed: 42, distribution: 'target' });
  });
  it('sets exactly the study flag of the type in the window', () => {
    expect(epochFlags(spec, 3)).toEqual({ used_random_targets: false, used_shuffled_targets: true, used_uniform_images: false, used_image_noise: false });
    expect(Object.values(epochFlags(spec, 5)).some(Boolean)).toBe(false);
    expect(epochFlags({ ...spec, type: 'blank_image' }, 4).used_uniform_images).toBe(true);
    expect(epochFlags({ ...spec, type: 'image_noise' }, 4).used_image_noise).toBe(true);
    expect(epochFlags({ ...spec, type: 'random_target' }, 4).used_random_targets).toBe(true);
  });
});

describe('perturbBatch (method §4)', () => {
  it('random_target: replaces targets with N(mean, std^2) and leaves images alone', () => {
    const b = batch();
    const out = perturbBatch(b, perturbSpec.parse({ type: 'random_target', start: 5 }), 0, stats);
    expect(out.images).toBe(b.images);
    const s = meanStd(out.targets);
    // 4224 draws: the sample mean's standard error is 10.18/65 ≈ 0.16, the std's ≈ 0.11
    expect(Math.abs(s.mean - 5.6906)).toBeLessThan(0.6);
    expect(Math.abs(s.std - 10.1787)).toBeLessThan(0.45);
    expect(out.targets.some((x) => x < 0)).toBe(true);
  });
  it("random_target with distribution 'normal' draws N(0, 1)", () => {
    const out = perturbBatch(batch(), perturbSpec.parse({ type: 'random_target', start: 5, distribution: 'normal' }), 0, stats);
    const s = meanStd(out.targets);
    expect(Math.abs(s.mean)).toBeLessThan(0.07);
    expect(Math.abs(s.std - 1)).toBeLessThan(0.05);
  });
  it('label_shuffle: permutes whole target rows within the batch', () => {
    const b = batch();
    const out = perturbBatch(b, perturbSpec.parse({ type: 'label_shuffle', start: 2 }), 3, stats);
    expect(out.images).toBe(b.images);
    const rows = (a: Float32Array) => Array.from({ length: B }, (_, i) => Array.from(a.subarray(i * D, (i + 1) * D)).join(','));
    expect(rows(out.targets).sort()).toEqual(rows(b.targets).sort());
    expect(rows(out.targets)).not.toEqual(rows(b.targets));
  });
  it('label_shuffle handles a short last batch (36 of 1444)', () => {
    const b = { images: new Float32Array(36 * PIX), targets: new Float32Array(36 * D).map((_, i) => Math.floor(i / D)), batchSize: 36 };
    const out = perturbBatch(b, perturbSpec.parse({ type: 'label_shuffle', start: 2 }), 22, stats);
    const firsts = Array.from({ length: 36 }, (_, i) => out.targets[i * D]).sort((x, y) => x - y);
    expect(firsts).toEqual(Array.from({ length: 36 }, (_, i) => i));
  });
  it('image_noise: replaces every pixel with N(target mean, target std^2), targets untouched', () => {
    const b = batch();
    const out = perturbBatch(b, perturbSpec.parse({ type: 'image_noise', start: 2 }), 0, stats);
    expect(out.targets).toBe(b.targets);
    const s = meanStd(out.images);
    expect(Math.abs(s.mean - 5.6906)).toBeLessThan(0.6);
    expect(Math.abs(s.std - 10.1787)).toBeLessThan(0.45);
  });
  it('blank_image: every pixel 0.5 in normalised space', () => {
    const out = perturbBatch(batch(), perturbSpec.parse({ type: 'blank_image', start: 2 }), 0, stats);
    expect(out.images.every((x) => x === 0.5)).toBe(true);
  });
  it('draws depend on (seed, start, batch), not on the epoch inside the window', () => {
    const spec = perturbSpec.parse({ type: 'random_target', start: 4, length: 3 });
    const a = perturbBatch(batch(), spec, 2, stats).targets;
    expect(perturbBatch(batch(), spec, 2, stats).targets).toEqual(a);
    expect(perturbBatch(batch(), spec, 3, stats).targets).not.toEqual(a);
    expect(perturbBatch(batch(), { ...spec, start: 5 }, 2, stats).targets).not.toEqual(a);
    expect(perturbBatch(batch(), { ...spec, seed: 0 }, 2, stats).targets).not.toEqual(a);
  });
});

describe('targetStats', () => {
  it('is the scalar mean and population std', () => {
    // values 1,2,3,4: mean 2.5, population variance 1.25
    const s = targetStats(new Float32Array([1, 2, 3, 4]));
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(1.25), 12);
  });
});

describe('target statistics of the real THINGS targets (method §2.2)', () => {
  const file = join(sharedDir(), 'data', 'things', 'spose_embedding66d_rescaled_1806train.csv');
  it.runIf(existsSync(file))('are mean 5.6906 and std 10.1787 over all 1806 x 66 entries', () => {
    // header ",image_name,0,...,65"; each row: pandas index, image name, 66 values
    const rows = readFileSync(file, 'utf8').trim().split('\n').slice(1);
    expect(rows.length).toBe(1806);
    const values = new Float32Array(rows.flatMap((r) => r.split(',').slice(2).map(Number)));
    expect(values.length).toBe(1806 * 66);
    const s = targetStats(values);
    expect(s.mean).toBeCloseTo(5.6906, 4);
    expect(s.std).toBeCloseTo(10.1787, 4);
  });
});
