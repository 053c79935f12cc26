#!/usr/bin/env node
// bench/model-step: one CLIP-HBA training step (ViT-L/14 blocks 22-23 from cached inputs, text block 11,
// cosine head, MSE, backward, AdamW; batch 64) in tfjs vs Debian's PyTorch computing the same loss and
// gradients in the same run: as the study's code does (every token of every block: the reference), and with
// the last blocks at their head's token only, as tfjs runs them. Prints the times and the speed ratios
// (PyTorch time / ours; target >= 0.5 on wasm).
//   node bench/model-step/run.mjs [--backend wasm] [--threads 1,2] [--batch 64] [--micro 8] [--steps 1] [--warmup 1]
//                                 [--torch-threads 2] [--python /usr/bin/python3]
// --threads (wasm) lists XNNPACK thread counts to time one after the other, each on a fresh backend.
// tfjs runs the batch as micro-batches (wasm memory ends at 4 GB); PyTorch runs it whole.
import { execFileSync, execSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, tf } from '@lw/models';
import { buildStep, timeSteps } from './step.mjs';

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
const backend = arg('backend', 'wasm');
const batch = Number(arg('batch', 64)), micro = Number(arg('micro', 8)), steps = Number(arg('steps', 1)), warmup = Number(arg('warmup', 1));
const threadCounts = backend === 'wasm' ? String(arg('threads', `1,${availableParallelism()}`)).split(',').map(Number) : [undefined];
const torchThreads = Number(arg('torch-threads', availableParallelism()));
const python = arg('python', '/usr/bin/python3');
const here = dirname(fileURLToPath(import.meta.url));

const rows = [];
for (const threads of threadCounts) {
  const info = await initBackend({ backend, threads });
  const { step, trainableCount, dispose } = buildStep({ batch, micro });
  const t = await timeSteps(step, { warmup, steps });
  dispose();
  console.error(`tfjs ${info.name} ${info.threads ?? '?'} thread(s): ${t.seconds.toFixed(2)} s/step (cpu ${t.cpuSeconds.toFixed(2)} s), loss ${t.loss.toFixed(1)}, trainable ${trainableCount}, ${tf.memory().numTensors} tensors left`);
  rows.push({ label: `tfjs ${info.name} (${info.threads ?? '?'} thread${info.threads === 1 ? '' : 's'})`, threads: info.threads, ...t });
}

// The reference: the step as the study's PyTorch code computes it; and, to show what the last-token trick
// itself is worth, PyTorch doing the same reduced work (--last-token-only).
const torchRun = (extra) => JSON.parse(execFileSync(python, [join(here, 'torch_step.py'), '--batch', String(batch), '--steps', String(steps), '--warmup', String(warmup), '--threads', String(torchThreads), ...extra], { encoding: 'utf8' }).trim().split('\n').pop());
const ref = torchRun([]), same = torchRun(['--last-token-only']);
const cpuModel = execSync("lscpu | grep 'Model name' | sed 's/.*: *//'", { encoding: 'utf8' }).trim();
const load = execSync('cat /proc/loadavg', { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ');
console.log(`machine: ${cpuModel}, ${execSync('nproc', { encoding: 'utf8' }).trim()} cores, load average at the end ${load}; batch ${batch} (tfjs micro-batches of ${micro}), ${steps} timed step(s) after ${warmup} warm-up`);
console.log(`${'impl'.padEnd(44)} ${'s/step'.padStart(9)} ${'cpu s/step'.padStart(11)} ${'ratio wall'.padStart(11)} ${'ratio cpu'.padStart(10)}`);
for (const r of rows) {
  console.log(`${r.label.padEnd(44)} ${r.seconds.toFixed(2).padStart(9)} ${r.cpuSeconds.toFixed(2).padStart(11)} ${(ref.seconds_per_step / r.seconds).toFixed(2).padStart(10)}x ${(ref.cpu_seconds_per_step / r.cpuSeconds).toFixed(2).padStart(9)}x`);
}
for (const t of [ref, same]) {
  const one = t === ref ? '1' : `${(ref.seconds_per_step / t.seconds_per_step).toFixed(2)}x`, oneCpu = t === ref ? '1' : `${(ref.cpu_seconds_per_step / t.cpu_seconds_per_step).toFixed(2)}x`;
  console.log(`${`${t.impl} (${t.threads} threads)`.padEnd(44)} ${t.seconds_per_step.toFixed(2).padStart(9)} ${t.cpu_seconds_per_step.toFixed(2).padStart(11)} ${one.padStart(11)} ${oneCpu.padStart(10)}`);
}
console.log('ratio = time of torch (the study\'s step) / time of the row (target >= 0.5x wall); against torch doing the same last-token work:');
for (const r of rows) console.log(`  ${r.label}: ${(same.seconds_per_step / r.seconds).toFixed(2)}x wall, ${(same.cpu_seconds_per_step / r.cpuSeconds).toFixed(2)}x cpu`);
for (const r of rows) {
  console.log(JSON.stringify({ bench: 'model-step', backend, threads: r.threads, batch, micro, ours_s: r.seconds, ours_cpu_s: r.cpuSeconds, torch_s: ref.seconds_per_step, torch_cpu_s: ref.cpu_seconds_per_step, ratio: ref.seconds_per_step / r.seconds, torch_last_token_s: same.seconds_per_step, torch_last_token_cpu_s: same.cpu_seconds_per_step, ratio_same_work: same.seconds_per_step / r.seconds }));
}
process.exit(0);
