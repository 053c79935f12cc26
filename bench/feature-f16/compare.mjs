#!/usr/bin/env node
// Compares the behaviour runs of one pipeline run with the float32 feature cache against the same
// run with `--set stages.features.params.dtype=float16`, both already in one cache (see
// bench/RESULTS.md "feature cache: float16 vs float32"). Task folders are found through
// `lw run --dry-run` (one line per task: status, name, 12-hex key prefix).
//   node bench/feature-f16/compare.mjs PIPELINE.yaml CACHE_DIR
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [pipeline, cache] = process.argv.slice(2);
if (!pipeline || !cache) {
  console.error('usage: node bench/feature-f16/compare.mjs PIPELINE.yaml CACHE_DIR');
  process.exit(2);
}
const lw = join(dirname(fileURLToPath(import.meta.url)), '../../packages/pipeline/bin/lw.js');
const F16 = ['--set', 'stages.features.params.dtype=float16'];

/** task name -> cache folder, for one variant of the pipeline */
function taskDirs(extra) {
  const out = execFileSync('node', [lw, 'run', pipeline, '--cache', cache, '--dry-run', ...extra], { encoding: 'utf8' });
  const dirs = new Map();
  for (const line of out.split('\n')) {
    const m = /^\s*\S+\s+(\S+)\s+([0-9a-f]{12})\s*$/.exec(line);
    if (!m) continue;
    const shard = join(cache, m[2].slice(0, 2));
    const full = readdirSync(shard).find((d) => d.startsWith(m[2]));
    if (!full) throw new Error(`task ${m[1]} (${m[2]}) is not in ${cache}: run the pipeline first`);
    dirs.set(m[1], join(shard, full));
  }
  return dirs;
}

const rows = (dir) => {
  const [head, ...lines] = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
  const cols = head.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
};
// bytes of every file under dir (the shards, the manifest and the task's bookkeeping files)
const duBytes = (dir) => readdirSync(dir, { recursive: true }).reduce((n, f) => {
  const s = statSync(join(dir, f));
  return s.isFile() ? n + s.size : n;
}, 0);
const argminLoss = (rs) => rs.reduce((b, r) => (Number(r.test_loss) < Number(b.test_loss) ? r : b)).epoch;

const a = taskDirs([]), b = taskDirs(F16);
const feat32 = a.get('features'), feat16 = b.get('features');
const manifest = JSON.parse(readFileSync(join(feat16, 'features.json'), 'utf8'));
console.log(`features float32: ${duBytes(feat32)} bytes  ${feat32}`);
console.log(`features float16: ${duBytes(feat16)} bytes  ${feat16}`);
console.log(`float16 manifest error: ${JSON.stringify(manifest.error)}`);
console.log('\n| task | epochs 32 / 16 | max rel Δ train_loss | max rel Δ test_loss | max abs Δ rho | stop epoch 32 / 16 | best-val epoch 32 / 16 |');
console.log('|---|---|---|---|---|---|---|');
const all = { train: 0, test: 0, rho: 0 };
for (const [name, d32] of a) {
  if (!existsMetrics(d32)) continue;
  const r32 = rows(d32), r16 = rows(b.get(name));
  const m = { train: 0, test: 0, rho: 0 };
  for (let i = 0; i < Math.min(r32.length, r16.length); i++) {
    const x = r32[i], y = r16[i];
    if (x.epoch !== y.epoch) throw new Error(`${name}: row ${i} is epoch ${x.epoch} vs ${y.epoch}`);
    m.train = Math.max(m.train, Math.abs(y.train_loss - x.train_loss) / Math.abs(x.train_loss));
    m.test = Math.max(m.test, Math.abs(y.test_loss - x.test_loss) / Math.abs(x.test_loss));
    m.rho = Math.max(m.rho, Math.abs(y.behavioral_rsa_rho - x.behavioral_rsa_rho));
  }
  for (const k of Object.keys(all)) all[k] = Math.max(all[k], m[k]);
  console.log(`| ${name} | ${r32.length} / ${r16.length} | ${m.train.toExponential(2)} | ${m.test.toExponential(2)} | ${m.rho.toExponential(2)} | ${r32.at(-1).epoch} / ${r16.at(-1).epoch} | ${argminLoss(r32)} / ${argminLoss(r16)} |`);
}
console.log(`| all | | ${all.train.toExponential(2)} | ${all.test.toExponential(2)} | ${all.rho.toExponential(2)} | | |`);

// The study's effect sizes (lw analyze's effects.csv) from each variant's runs, side by side.
const effects = (dirs) => {
  const out = mkdtempSync(join(tmpdir(), 'lw-f16-'));
  const runs = [...dirs].filter(([n, d]) => n !== 'baseline' && existsMetrics(d)).map(([, d]) => d);
  execFileSync('node', [lw, 'analyze', '--baseline', dirs.get('baseline'), '--runs', ...runs, '--out', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const table = (file) => {
    const [head, ...lines] = readFileSync(join(out, file), 'utf8').trim().split('\n');
    const cols = head.split(',');
    return new Map(lines.map((l) => {
      const r = Object.fromEntries(l.split(',').map((v, i) => [cols[i], v]));
      return [`${r.type} start ${r.start} length ${r.length}`, r];
    }));
  };
  const loss = table('recovery.csv'), align = table('alignment_recovery.csv'), eff = table('effects.csv');
  rmSync(out, { recursive: true });
  return new Map([...eff].map(([k, r]) => [k, { ...r, lossRecovery: loss.get(k)?.recovery_epochs, alignRecovery: align.get(k)?.recovery_epochs }]));
};
const e32 = effects(a), e16 = effects(b);
console.log('\n| effect (lw analyze) | delta_rsa 32 | delta_rsa 16 | Δ | delta_test_loss 32 | delta_test_loss 16 | Δ | loss / alignment recovery epochs 32 vs 16 |');
console.log('|---|---|---|---|---|---|---|---|');
const f = (x) => Number(x).toFixed(5);
for (const [k, x] of e32) {
  const y = e16.get(k);
  console.log(`| ${k} | ${f(x.delta_rsa)} | ${f(y.delta_rsa)} | ${(y.delta_rsa - x.delta_rsa).toExponential(2)} | ${f(x.delta_test_loss)} | ${f(y.delta_test_loss)} | ${(y.delta_test_loss - x.delta_test_loss).toExponential(2)} | ${x.lossRecovery} / ${x.alignRecovery} vs ${y.lossRecovery} / ${y.alignRecovery} |`);
}

// a CLIP-HBA behaviour run (train/behavior) that finished
function existsMetrics(dir) {
  try {
    return JSON.parse(readFileSync(join(dir, 'task.json'), 'utf8')).stage === 'train/behavior' && statSync(join(dir, 'metrics.csv')).isFile();
  } catch {
    return false;
  }
}
