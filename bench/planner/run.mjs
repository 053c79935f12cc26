#!/usr/bin/env node
// bench/planner: `lw run FILE --dry-run --json` (fresh cache) of a pipeline with N conditions: one
// upstream task, a matrix exec stage of N tasks reading it, one fan-in task reading them all, for
// N = 10k, 20k, 40k (LW_BENCH_SIZES=10000,20000 to change), beside Snakemake's dry run
// (`snakemake -n -q`) of the same DAG. Whole CLI processes, timed from start to exit, the two in
// turn, after one untimed warm-up each; min/median/max of LW_BENCH_REPEATS (default 5).
// Target (issue 18): 10k conditions in <= 1 s on the 2-core machine, growth linear in N.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const sizes = (process.env.LW_BENCH_SIZES ?? '10000,20000,40000').split(',').map(Number);
const REPEATS = Number(process.env.LW_BENCH_REPEATS ?? 5);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const work = join(root, 'bench', 'out', 'planner');
const lw = join(root, 'packages', 'pipeline', 'bin', 'lw.js');

const smkVersion = spawnSync('snakemake', ['--version'], { encoding: 'utf8' });
const haveSnakemake = smkVersion.status === 0;
if (!haveSnakemake) console.log('snakemake is not installed (apt-get install -y snakemake): only lw figures below');

function timed(cmd, args, cwd, before) {
  before?.();
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  return { ms, stdout: r.stdout };
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s.at(-1) };
};
const fmt = (s) => `${(s.min / 1000).toFixed(2)} / ${(s.median / 1000).toFixed(2)} / ${(s.max / 1000).toFixed(2)} s`;

console.log(`machine: ${cpus().length} cores; node ${process.version}${haveSnakemake ? `; snakemake ${smkVersion.stdout.trim()}` : ''}`);
console.log(`dry run, fresh cache, whole CLI process; min / median / max of ${REPEATS}`);
const rows = [];
for (const n of sizes) {
  const dir = join(work, String(n));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'lw'), { recursive: true });
  mkdirSync(join(dir, 'smk'), { recursive: true });
  writeFileSync(
    join(dir, 'lw', 'p.yaml'),
    `name: planner
stages:
  prepare:
    uses: exec
    params: { cmd: "echo data > data.txt", outs: [data.txt] }
  work:
    uses: exec
    matrix: { i: "1..${n}" }
    inputs: { data: prepare }
    params: { cmd: "echo \${i} > out.txt", outs: [out.txt] }
  gather:
    uses: exec
    inputs: { parts: work }
    params: { cmd: "cat $LW_IN_PARTS/*/out.txt > all.txt", outs: [all.txt] }
`,
  );
  writeFileSync(
    join(dir, 'smk', 'Snakefile'),
    `rule all:
    input: "all.txt"

rule prepare:
    output: "data.txt"
    shell: "echo data > {output}"

rule work:
    input: "data.txt"
    output: "out/{i}.txt"
    shell: "echo {wildcards.i} > {output}"

rule gather:
    input: expand("out/{i}.txt", i=range(1, ${n + 1}))
    output: "all.txt"
    shell: "cat {input} > {output}"
`,
  );
  const lwDir = join(dir, 'lw');
  const fresh = () => rmSync(join(lwDir, '.lw'), { recursive: true, force: true });
  const lwArgs = [lw, 'run', 'p.yaml', '--dry-run', '--json'];
  const smkArgs = ['-n', '-q', '--cores', '1'];
  const smkDir = join(dir, 'smk');
  const check = JSON.parse(timed(process.execPath, lwArgs, lwDir, fresh).stdout.trim().split('\n').at(-1));
  if (check.tasks !== n + 2 || check.toRun !== n + 2) throw new Error(`lw dry run planned ${JSON.stringify(check)}, expected ${n + 2} tasks to run`);
  if (haveSnakemake) timed('snakemake', smkArgs, smkDir);
  const ours = [];
  const theirs = [];
  for (let i = 0; i < REPEATS; i++) {
    ours.push(timed(process.execPath, lwArgs, lwDir, fresh).ms);
    if (haveSnakemake) theirs.push(timed('snakemake', smkArgs, smkDir).ms);
  }
  const o = stats(ours);
  const t = haveSnakemake ? stats(theirs) : undefined;
  rows.push({ n, o, t });
  console.log(
    `N=${String(n).padStart(6)}  lw ${fmt(o)}  (${((o.median * 1000) / n).toFixed(1)} us/task)` +
      (t ? `  snakemake ${fmt(t)}  (${((t.median * 1000) / n).toFixed(1)} us/task)  lw/snakemake ${(o.median / t.median).toFixed(3)}x` : ''),
  );
}
const first = rows[0];
for (const r of rows.slice(1)) {
  console.log(`growth ${first.n} -> ${r.n} (${(r.n / first.n).toFixed(0)}x tasks): lw ${(r.o.median / first.o.median).toFixed(2)}x${r.t ? `, snakemake ${(r.t.median / first.t.median).toFixed(2)}x` : ''}`);
}
const ten = rows.find((r) => r.n === 10000);
if (ten) console.log(`target: 10000 conditions in <= 1 s: median ${(ten.o.median / 1000).toFixed(2)} s (${ten.o.median <= 1000 ? 'met' : 'NOT met'})`);
