import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lavapipe, lavapipeEnv, needs } from '@lw/core/testing/system-parts';
import type { EpochMemory } from './memory-probe.js';

/**
 * A train/behavior task holds the same tfjs tensors, data buffers and GPU bytes after every epoch
 * (memory-probe.ts: feature cache, two image_noise epochs, clean epochs), on webgpu over lavapipe as CI
 * sets it up (LW_LAVAPIPE_DIR, default /tmp/gpu-kit-lavapipe; LW_REQUIRE_WEBGPU=1 makes its absence a
 * failure; see webgpu/parity.test.ts in @lw/models), and trains as the cpu backend does. Before TrainableParams.push disposed what it
 * assigned, each step kept one copy of the trainable weights: +24 tensors per epoch here, ~24 MB per
 * epoch at ViT-L/14 on an H200.
 */
// Missing lavapipe: one line saying so and how to get it, or a failure where LW_REQUIRE_WEBGPU=1 (CI).
const available = needs(lavapipe);

describe('train/behavior memory per epoch (webgpu, lavapipe)', () => {
  it.runIf(available)('the same tensors, buffers and GPU bytes after every epoch from the second', () => {
    const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'behavior', 'memory-probe.js');
    const out = execFileSync(process.execPath, [script, 'webgpu', '7'], { env: lavapipeEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as { backend: string; adapter: string; epochs: EpochMemory[]; testLoss: number[] };
    expect(result.backend).toBe('webgpu');
    // webgpu trains with AdamW on the device (LwAdamW, losses read a batch late); cpu with the host optimiser:
    // the same training to float32 rounding (5.7e-8 relative when written).
    const cpu = JSON.parse(execFileSync(process.execPath, [script, 'cpu', '7'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 }).trim().split('\n').at(-1)!) as { testLoss: number[] };
    expect(result.testLoss).toHaveLength(2);
    result.testLoss.forEach((loss, i) => expect(Math.abs(loss - cpu.testLoss[i]) / cpu.testLoss[i], `task ${i + 1}'s test loss, webgpu vs cpu`).toBeLessThan(1e-5));
    expect(result.adapter).toMatch(/llvmpipe|lavapipe/);
    const rows = result.epochs.filter((r) => r.task === 1), again = result.epochs.filter((r) => r.task === 2);
    expect(rows.map((r) => r.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // The second task in the process (model, data and cache resident) holds what the first did, epoch by epoch.
    // (Before DoRA disposed its variables' initial tensors, each task left 6 behind.)
    expect(again.map((r) => [r.numTensors, r.numDataBuffers])).toEqual(rows.map((r) => [r.numTensors, r.numDataBuffers]));
    for (const r of again) expect(r.numBytesInGPU, `GPU bytes in use, second task, epoch ${r.epoch}`).toBe(rows.at(-1)!.numBytesInGPU);
    expect(again.at(-1)!.numBytesAllocatedInGPU!).toBeLessThanOrEqual(rows.at(-1)!.numBytesAllocatedInGPU!);
    // Epoch 1 compiles kernels and fills tfjs' pools; from epoch 2 (image_noise) on nothing may grow in use.
    for (const r of rows.slice(2)) {
      expect(r.numTensors, `tensors after epoch ${r.epoch}`).toBe(rows[1].numTensors);
      expect(r.numDataBuffers, `data buffers after epoch ${r.epoch}`).toBe(rows[1].numDataBuffers);
      expect(r.numBytesInGPU, `GPU bytes in use after epoch ${r.epoch}`).toBe(rows[1].numBytesInGPU);
    }
    // @lw/models' dispatch cache (outside tfjs' counts): uniform buffers only for contents that recur (before
    // LwAdamW's per-step scalars were kept out, +8 a clean epoch here), and bind groups settling as tfjs' sorted
    // pool repeats itself (task 1: 1252 after epochs 6 and 7 when written; task 2: 1402 and 1402).
    for (const r of [...rows.slice(4), ...again]) expect(r.uniformBuffers, `cached uniform buffers after task ${r.task} epoch ${r.epoch}`).toBe(rows[3].uniformBuffers);
    for (const t of [rows, again]) expect(t.at(-1)!.bindGroups! - t.at(-2)!.bindGroups!, `bind groups added in task ${t[0].task}'s last epoch`).toBeLessThanOrEqual(5);
    // tfjs' pool (freed buffers by size) may take the first clean epoch's sizes, then must stay: before the
    // feature cache gathered from one tensor, shuffled batches kept adding sizes (+10-30 KB per epoch here).
    for (const r of rows.slice(4)) expect(r.numBytesAllocatedInGPU!, `GPU bytes allocated after epoch ${r.epoch}`).toBe(rows[3].numBytesAllocatedInGPU!);
  }, 300_000);
});
