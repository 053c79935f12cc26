#!/usr/bin/env node
// bench/model-step: one CLIP-HBA training step (ViT-L/14 blocks 22-23 from cached inputs, text block 11,
// cosine head, MSE, backward, AdamW; batch 64) in tfjs vs Debian's PyTorch doing the same computation in
// the same run. Prints both times and the speed ratio (PyTorch time / ours; target >= 0.3 on wasm).
//   node bench/model-step/run.mjs [--backend wasm] [--batch 64] [--micro 16] [--steps 1] [--warmup 1] [--python /usr/bin/python3]
// tfjs runs the batch as micro-batches of 16 (wasm memory ends at 4 GB); PyTorch runs it whole.
import { execFileSync } from 'node:child_process';
import { execSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@lw/models';
import { buildStep, timeSteps } from './step.mjs';

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
const batch = Number(arg('batch', 64)), micro = Number(arg('micro', 16)), steps = Number(arg('steps', 1)), warmup = Number(arg('warmup', 1));
const python = arg('python', '/usr/bin/python3');
const here = dirname(fileURLToPath(import.meta.url));

const info = await initBackend({ backend: arg('backend', 'wasm') });
const { step, trainableCount } = buildStep({ batch, micro });
const ours = await timeSteps(step, { warmup, steps });
console.error(`tfjs ${info.name}: ${ours.seconds.toFixed(2)} s/step (cpu ${ours.cpuSeconds.toFixed(2)} s), loss ${ours.loss.toFixed(1)}, trainable ${trainableCount}`);

const out = execFileSync(python, [join(here, 'torch_step.py'), '--batch', String(batch), '--steps', String(steps), '--warmup', String(warmup), '--threads', '2'], { encoding: 'utf8' });
const ref = JSON.parse(out.trim().split('\n').pop());
const cpuModel = execSync("lscpu | grep 'Model name' | sed 's/.*: *//'", { encoding: 'utf8' }).trim();
console.log(`machine: ${cpuModel}, ${execSync('nproc', { encoding: 'utf8' }).trim()} cores; batch ${batch} (tfjs micro-batches of ${micro}), ${steps} timed step(s) after ${warmup} warm-up`);
console.log(`${'impl'.padEnd(28)} ${'s/step'.padStart(9)} ${'cpu s/step'.padStart(11)}`);
console.log(`${`tfjs ${info.name} (${info.threads ?? '?'} thread)`.padEnd(28)} ${ours.seconds.toFixed(2).padStart(9)} ${ours.cpuSeconds.toFixed(2).padStart(11)}`);
console.log(`${`${ref.impl} (${ref.threads} threads)`.padEnd(28)} ${ref.seconds_per_step.toFixed(2).padStart(9)} ${ref.cpu_seconds_per_step.toFixed(2).padStart(11)}`);
console.log(`speed ratio (torch time / tfjs time): ${(ref.seconds_per_step / ours.seconds).toFixed(2)}x wall, ${(ref.cpu_seconds_per_step / ours.cpuSeconds).toFixed(2)}x cpu (target >= 0.3x)`);
console.log(JSON.stringify({ bench: 'model-step', backend: info.name, batch, ours_s: ours.seconds, ours_cpu_s: ours.cpuSeconds, torch_s: ref.seconds_per_step, torch_cpu_s: ref.cpu_seconds_per_step, ratio: ref.seconds_per_step / ours.seconds }));
process.exit(0);
