#!/usr/bin/env node
// bench/pipeline-noop: plan + no-op rerun of a pipeline of 500 cached `exec` tasks with `lw run`,
// against the equivalent Snakefile with Snakemake (Debian's `apt-get install snakemake`), in the
// same run. Both are timed as whole CLI invocations (process start to exit), median of 5, after
// one untimed warm-up. Setup (computing the 500 tasks once for each tool) is not timed. `lw run`
// answers a no-op rerun from its run stamp; `--only` forces the full plan, shown beside it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = Number(process.env.LW_BENCH_TASKS ?? 500);
const REPEATS = 5;
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const work = join(root, 'bench', 'out', 'pipeline-noop');
const lw = join(root, 'packages', 'pipeline', 'bin', 'lw.js');

const snakemake = spawnSync('snakemake', ['--version'], { encoding: 'utf8' });
if (snakemake.status !== 0) {
  console.error('snakemake is not installed: apt-get install -y snakemake');
  process.exit(1);
}

rmSync(work, { recursive: true, force: true });
mkdirSync(join(work, 'lw'), { recursive: true });
mkdirSync(join(work, 'smk'), { recursive: true });

writeFileSync(
  join(work, 'lw', 'p.yaml'),
  `name: noop
stages:
  make:
    uses: exec
    matrix: { i: "1..${N}" }
    params: { cmd: "echo \${i} > out.txt", outs: [out.txt] }
`,
);
writeFileSync(
  join(work, 'smk', 'Snakefile'),
  `rule all:
    input: expand("out/{i}.txt", i=range(1, ${N + 1}))

rule make:
    output: "out/{i}.txt"
    shell: "echo {wildcards.i} > {output}"
`,
);

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  return r.stdout;
}

function median(cmd, args, cwd) {
  run(cmd, args, cwd);
  const times = [];
  for (let i = 0; i < REPEATS; i++) {
    const t = process.hrtime.bigint();
    run(cmd, args, cwd);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(REPEATS / 2)];
}

const jobs = String(cpus().length);
console.error(`setup: computing ${N} tasks with lw and with snakemake (untimed) ...`);
run(process.execPath, [lw, 'run', 'p.yaml', '--jobs', jobs], join(work, 'lw'));
run('snakemake', ['--cores', jobs, '--quiet'], join(work, 'smk'));

const noop = JSON.parse(run(process.execPath, [lw, 'run', 'p.yaml', '--json'], join(work, 'lw')).trim().split('\n').at(-1));
if (noop.ran !== 0 || noop.cached !== N) throw new Error(`lw rerun was not a no-op: ${JSON.stringify(noop)}`);
const smkDry = run('snakemake', ['--cores', '1', '--dry-run'], join(work, 'smk'));
if (!/Nothing to be done/.test(smkDry)) throw new Error('snakemake rerun was not a no-op');

const ours = median(process.execPath, [lw, 'run', 'p.yaml', '--json'], join(work, 'lw'));
// `--only` skips the run-stamp fast path: the full parse, plan, 500 keys and entry checks.
const oursPlanned = median(process.execPath, [lw, 'run', 'p.yaml', '--json', '--only', 'make'], join(work, 'lw'));
const theirs = median('snakemake', ['--cores', '1', '--quiet'], join(work, 'smk'));
const cpu = execFileSync('sh', ['-c', "lscpu | grep 'Model name' | sed 's/.*: *//'"], { encoding: 'utf8' }).trim();
console.log(`machine: ${cpu}, ${cpus().length} cores; snakemake ${snakemake.stdout.trim()}; node ${process.version}`);
console.log(`no-op rerun of ${N} cached exec tasks (median of ${REPEATS}, whole CLI process):`);
console.log(`  lw run                      ${ours.toFixed(0).padStart(6)} ms  (run-stamp fast path)`);
console.log(`  lw run --only make          ${oursPlanned.toFixed(0).padStart(6)} ms  (full plan, no fast path)`);
console.log(`  snakemake                   ${theirs.toFixed(0).padStart(6)} ms`);
console.log(`  ratio lw run / snakemake    ${(ours / theirs).toFixed(3)}x (target <= 0.2x)`);
console.log(`  ratio full plan / snakemake ${(oursPlanned / theirs).toFixed(3)}x`);
if (!existsSync(join(work, 'lw', '.lw', 'results', 'noop', 'make'))) throw new Error('lw results index missing');
