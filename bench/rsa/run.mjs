#!/usr/bin/env node
// bench/rsa: Spearman RSA on a 1854 x 1854 RDM (1,717,731 pairs) and a 1000-permutation test on the
// study's 48 x 48 RDM, @lw/eval vs SciPy on the same inputs in the same run (python3 spawned; needs
// `apt-get install -y python3-scipy`). Build first: `npx tsc -b packages/eval`.
// Each task runs ours, then SciPy, then ours and SciPy again (interleaved, so both see similar load
// from other processes); best of BENCH_REPS (default 3) per round, best of the two rounds. It prints
// CPU seconds of each process (stable on a shared machine) and wall seconds, and the ratio
// SciPy / ours: above 1 means we are faster.
import { mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng, sharedDir } from '@lw/core';
import { kendallTau, loadFeatures, loadHumanRdm, pairwiseDissimilarities, rsa, spearman, squareForm, toHumanRdm } from '@lw/eval';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'out', 'rsa');
mkdirSync(out, { recursive: true });
const REPS = Number(process.env.BENCH_REPS ?? 3);
const PERMUTATIONS = 1000;

/** A C-order float64 .npy file, for the SciPy side. */
function writeNpy(path, data, shape) {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1'); head[6] = 1; head[7] = 0; head.writeUInt16LE(header.length, 8);
  writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

/** Best of REPS runs: { cpu, wall, value } in seconds. */
function best(fn) {
  let cpu = Infinity, wall = Infinity, value;
  for (let i = 0; i < REPS; i++) {
    const c = process.cpuUsage(), w = process.hrtime.bigint();
    value = fn();
    const used = process.cpuUsage(c);
    wall = Math.min(wall, Number(process.hrtime.bigint() - w) / 1e9);
    cpu = Math.min(cpu, (used.user + used.system) / 1e6);
  }
  return { cpu, wall, value };
}

function scipy(task) {
  const py = spawnSync('python3', [join(here, 'scipy_ref.py'), out, String(REPS), String(PERMUTATIONS), task], { encoding: 'utf8' });
  if (py.status !== 0) {
    console.error(py.stderr || py.error?.message);
    console.error('SciPy reference failed: apt-get install -y python3-scipy');
    process.exit(1);
  }
  return JSON.parse(py.stdout.trim().split('\n').pop());
}

const bestOf = (a, b) => ({ cpu: Math.min(a.cpu, b.cpu), wall: Math.min(a.wall, b.wall), value: a.value });

// Inputs: "human" = correlation RDM of the 1854 SPoSE embeddings; "model" = the same plus noise.
const things = join(sharedDir(), 'data', 'things');
const spose = loadFeatures(join(things, 'spose_embedding66d_rescaled.csv'));
const n = spose.n, d = spose.d;
const noise = new Rng(0, 'bench/rsa').normals(n * d, 0, 5);
const features = Float64Array.from(spose.features, (v, k) => v + noise[k]);
const humanUpper = pairwiseDissimilarities(spose.features, n, d, 'correlation');
const modelUpper = pairwiseDissimilarities(features, n, d, 'correlation');
const human48 = loadHumanRdm(join(things, 'RDM48_triplet.mat'));
const f48 = loadFeatures(join(things, 'spose_embedding66d_rescaled_48val_reordered.csv'));
writeNpy(join(out, 'human_upper.npy'), humanUpper, [humanUpper.length]);
writeNpy(join(out, 'model_upper.npy'), modelUpper, [modelUpper.length]);
writeNpy(join(out, 'model_features.npy'), features, [n, d]);
writeNpy(join(out, 'human48.npy'), squareForm(human48.upper, 48), [48, 48]);
writeNpy(join(out, 'features48.npy'), f48.features, [48, f48.d]);
const human1854 = toHumanRdm(humanUpper, 'SPoSE 1854 correlation RDM');

const tasks = [
  ['spearman', 'Spearman of two 1854x1854 RDMs (1.7M pairs)', () => spearman(humanUpper, modelUpper).r, 'rho'],
  // Full RSA from features; the human ranks are cached after the first call, as in per-epoch use.
  ['rsa', 'RSA from features: 1-Pearson RDM + Spearman, 1854x66', () => rsa(features, n, d, human1854).rho, 'rho'],
  ['kendall', 'Kendall tau-b, 1.7M pairs', () => kendallTau(humanUpper, modelUpper).r, 'tau'],
  ['perm', `${PERMUTATIONS}-permutation test, 48x48 Spearman`, () => rsa(f48.features, 48, f48.d, human48, { permutations: PERMUTATIONS, seed: 0 }).pPerm, 'p_perm'],
];

const meta = scipy('perm');
console.log(`node ${process.version}, SciPy ${meta.scipy}, NumPy ${meta.numpy}; best of 2 interleaved rounds x ${REPS} runs`);
console.log(`${'task'.padEnd(54)} ${'ours cpu'.padStart(9)} ${'SciPy cpu'.padStart(9)} ${'ratio'.padStart(6)} | ${'ours wall'.padStart(9)} ${'SciPy wall'.padStart(10)} ${'ratio'.padStart(6)} | check`);
for (const [key, label, fn, what] of tasks) {
  const ours1 = best(fn), ref1 = scipy(key)[key], ours2 = best(fn), ref2 = scipy(key)[key];
  const ours = bestOf(ours1, ours2), ref = bestOf(ref1, ref2);
  const f = (v) => v.toFixed(4);
  console.log(`${label.padEnd(54)} ${f(ours.cpu).padStart(9)} ${f(ref.cpu).padStart(9)} ${(ref.cpu / ours.cpu).toFixed(2).padStart(6)} | `
    + `${f(ours.wall).padStart(9)} ${f(ref.wall).padStart(10)} ${(ref.wall / ours.wall).toFixed(2).padStart(6)} | `
    + `${what} ${ours.value.toFixed(12)} vs ${ref.value.toFixed(12)}`);
}
