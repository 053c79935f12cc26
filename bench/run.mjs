#!/usr/bin/env node
// `npm run bench [-- NAME...]`: runs every benchmark under bench/<name>/ (or the named ones).
// Each benchmark prints our time, its named reference's time and the ratio side by side.
import { readdirSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const names = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(here, d.name, 'run.mjs')))
  .map((d) => d.name)
  .filter((n) => wanted.length === 0 || wanted.includes(n));
if (names.length === 0) {
  console.error(`no benchmark matches ${wanted.join(' ')}; available: ${readdirSync(here).join(' ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of names) {
  console.log(`\n=== bench/${name} ===`);
  const r = spawnSync(process.execPath, [join(here, name, 'run.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) { failed++; console.log(`bench/${name} failed (exit ${r.status})`); }
}
process.exit(failed ? 1 : 0);
