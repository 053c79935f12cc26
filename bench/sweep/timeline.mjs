#!/usr/bin/env node
// bench/sweep/timeline.mjs CACHE_DIR: the timeline of a finished `lw run` from its cache entries'
// result.json (started/finished of every task that ran): one line per task in start order with its
// offset, duration and a bar, then the busy time per core slot and the idle share of `--jobs` cores.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const jobs = Number(process.argv[3] ?? 2);
if (!dir || !existsSync(dir)) {
  console.error('usage: node bench/sweep/timeline.mjs CACHE_DIR [JOBS=2]');
  process.exit(2);
}
const results = [];
for (const shard of readdirSync(dir).filter((d) => /^[0-9a-f]{2}$/.test(d))) {
  for (const key of readdirSync(join(dir, shard))) {
    const file = join(dir, shard, key, 'result.json');
    if (!existsSync(file)) continue;
    const r = JSON.parse(readFileSync(file, 'utf8'));
    results.push({ name: r.name, start: Date.parse(r.started), end: Date.parse(r.finished), summary: r.summary });
  }
}
results.sort((a, b) => a.start - b.start);
const t0 = Math.min(...results.map((r) => r.start));
const t1 = Math.max(...results.map((r) => r.end));
const wall = (t1 - t0) / 1000;
const scale = 60 / wall;
const busy = results.reduce((s, r) => s + (r.end - r.start) / 1000, 0);
console.log(`${results.length} tasks, first start to last finish ${wall.toFixed(1)} s, task time ${busy.toFixed(1)} s, idle ${(100 * (1 - busy / (wall * jobs))).toFixed(0)} % of ${jobs} slots`);
for (const r of results) {
  const a = (r.start - t0) / 1000, d = (r.end - r.start) / 1000;
  const bar = ' '.repeat(Math.round(a * scale)) + '#'.repeat(Math.max(1, Math.round(d * scale)));
  const spe = typeof r.summary?.secondsPerEpoch === 'number' ? ` ${r.summary.secondsPerEpoch.toFixed(2)} s/epoch x ${r.summary.epochs}` : '';
  console.log(`${a.toFixed(1).padStart(6)} ${d.toFixed(1).padStart(6)}  ${r.name.padEnd(42)} ${bar}${spe}`);
}
