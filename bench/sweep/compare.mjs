#!/usr/bin/env node
// bench/sweep/compare.mjs CACHE_A CACHE_B: are two runs of the sweep the same study? Pairs the
// cache entries of both by task name (keys differ when the code does) and compares every CSV they
// hold (each run's metrics.csv, the report's effects/recovery tables, ...) cell by cell: numbers by
// absolute difference, everything else exactly. Prints the largest difference per file kind and
// exits 1 when a table is missing on one side or differs in shape or text (task keys, which change
// with the code, are not compared).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const [a, b] = process.argv.slice(2);
if (!a || !b || !existsSync(a) || !existsSync(b)) {
  console.error('usage: node bench/sweep/compare.mjs CACHE_A CACHE_B');
  process.exit(2);
}

/** task name -> entry dir, for every published entry of a cache. */
function entries(cache) {
  const out = new Map();
  for (const shard of readdirSync(cache).filter((d) => /^[0-9a-f]{2}$/.test(d))) {
    for (const key of readdirSync(join(cache, shard))) {
      const file = join(cache, shard, key, 'result.json');
      if (existsSync(file)) out.set(JSON.parse(readFileSync(file, 'utf8')).name, join(cache, shard, key));
    }
  }
  return out;
}

function csvFiles(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? csvFiles(join(dir, e.name), base) : e.name.endsWith('.csv') ? [relative(base, join(dir, e.name))] : []);
}

const A = entries(a), B = entries(b);
let bad = 0;
const worst = new Map(); // 'file column' -> { diff, where }
// One CSV line's fields; a quoted field may hold commas (run names like "CLIP-HBA[type=x,start=1]") and "" for ".
const fields = (line) => [...line.matchAll(/(?:^|,)(?:"((?:[^"]|"")*)"|([^,]*))/g)].map((m) => (m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]));
const unkeyed = (text) => text.replace(/[0-9a-f]{64}/g, 'KEY');
const cells = { numbers: 0, identical: 0 };
for (const [name, dirA] of [...A].sort()) {
  const dirB = B.get(name);
  if (!dirB) { console.log(`only in A: ${name}`); bad++; continue; }
  for (const file of csvFiles(dirA)) {
    const pathB = join(dirB, file);
    if (!existsSync(pathB)) { console.log(`${name}: ${file} only in A`); bad++; continue; }
    const ra = readFileSync(join(dirA, file), 'utf8').trim().split('\n').map(fields);
    const rb = readFileSync(pathB, 'utf8').trim().split('\n').map(fields);
    if (ra.length !== rb.length || ra[0].join() !== rb[0].join()) { console.log(`${name}: ${file}: ${ra.length} vs ${rb.length} rows or other columns`); bad++; continue; }
    const kind = file.replace(/^.*\//, '');
    for (let r = 1; r < ra.length; r++) {
      for (let c = 0; c < ra[r].length; c++) {
        const col = `${kind} ${ra[0][c]}`;
        const w = worst.get(col) ?? { diff: 0, where: '' };
        worst.set(col, w);
        const x = ra[r][c], y = rb[r][c];
        const nx = Number(x), ny = Number(y);
        if (x !== '' && y !== '' && Number.isFinite(nx) && Number.isFinite(ny)) {
          cells.numbers++;
          if (x === y) cells.identical++;
          const d = Math.abs(nx - ny);
          if (d > w.diff) Object.assign(w, { diff: d, where: `${name} ${file} row ${r} ${ra[0][c]}: ${x} vs ${y}` });
        } else if (unkeyed(x) !== unkeyed(y)) { console.log(`${name}: ${file} row ${r} ${ra[0][c]}: "${x}" vs "${y}"`); bad++; }
      }
    }
  }
}
for (const name of B.keys()) if (!A.has(name)) { console.log(`only in B: ${name}`); bad++; }
console.log(`${A.size} tasks; ${cells.numbers} numeric cells, ${cells.identical} with identical text`);
for (const [col, w] of worst) if (w.diff) console.log(`${col}: max |A - B| = ${w.diff.toPrecision(3)} (${w.where})`);
console.log(`every other numeric column: identical`);
process.exit(bad ? 1 : 0);
