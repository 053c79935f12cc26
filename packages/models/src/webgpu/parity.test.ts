import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lavapipe, lavapipeEnv, needs } from '@lw/core/testing/system-parts';
import type { ParityCheck } from './parity.js';

/**
 * Our WGSL kernels on a real WebGPU implementation (Dawn) over lavapipe, Mesa's software Vulkan
 * driver, against the cpu backend. Set up by `bash ../shared/tools/gpu-kit/lavapipe.sh DIR` plus
 * libvulkan1 unpacked into DIR/root (.ci/run does both); LW_LAVAPIPE_DIR names DIR (default
 * /tmp/gpu-kit-lavapipe). Without it the test is skipped, saying so, unless LW_REQUIRE_WEBGPU=1 (CI) makes that a failure.
 */
const available = needs(lavapipe);
const byNameOf = (checks: ParityCheck[], name: string) => checks.find((c) => c.name === name) ?? { lwKernels: `no check named ${name}` };

describe('webgpu kernels vs the cpu backend (lavapipe)', () => {
  it.runIf(available)('every check within 1e-5 relative, and the model cases run our kernels', () => {
    const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'webgpu', 'parity.js');
    const out = execFileSync(process.execPath, [script], { env: lavapipeEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 480_000 });
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as { adapter: string; checks: ParityCheck[] };
    expect(result.adapter).toMatch(/llvmpipe|lavapipe/);
    expect(result.checks).toHaveLength(20);
    for (const c of result.checks) expect(c.relErr, c.name).toBeLessThan(1e-5);
    const ours = Object.fromEntries(result.checks.map((c) => [c.name, c.ourKernels]));
    expect(ours['matMul with K-splits [64,4100]x[4100,64]']).toBe(2); // LwMatMul over 4 K-splits, then LwSumSplits
    expect(ours['batched matMul, ragged K and N [2,37,33]x[2,33,35] + gradients (scalar loads, 64x64 tiles)']).toBe(4); // the forward twice (value, then tf.grads), dA, dB
    expect(ours['matMul, ragged K [250,33]x[33,250] (scalar loads, 128x128 tiles)']).toBe(1);
    expect(ours['frozen LayerNorm + dx [6,1030] (one kernel each way)']).toBe(3); // LwLayerNorm twice (value, then tf.grads), LwLayerNormGrad
    expect(ours['frozen LayerNorm + dx, 33000 rows of 8 (two dispatch rows)']).toBe(3);
    expect(ours['QuickGELU + gradient [37,52]']).toBeGreaterThanOrEqual(2);
    expect(byNameOf(result.checks, 'row selection [5,7,48] at rows 0,6,3,2,5 + gradient (one scatter pass)').lwKernels).toEqual({ LwScatterRows: 1 });
    expect(ours['AdamW update [3,1000] (one kernel)']).toBe(1);
    // The bias rides in the product's stores: one kernel per product, no separate add.
    expect(byNameOf(result.checks, 'linear + bias [70,33] -> 35, scalar stores').lwKernels).toEqual({ LwMatMul: 1 });
    expect(byNameOf(result.checks, 'linear + bias [130,12] -> 136, vec4 stores + gradients').lwKernels).toEqual({ LwMatMul: 2 }); // the forward twice (value, then tf.grads); dx and dw are 12 wide, tf.matMul's
    expect(byNameOf(result.checks, 'linear + bias [64,4100] -> 64 after K-splits').lwKernels).toEqual({ LwMatMul: 1, LwSumSplits: 1 });
    // q, k, v stored in head layout by the product, twice (value, then tf.grads); the other products as before.
    expect(byNameOf(result.checks, 'attention, frozen q/k/v in head layout [2,37,64], 4 heads of 16 + gradients').lwKernels).toEqual({ LwMatMulHeads: 6, LwMatMul: 10 });
    expect(ours['CLIP-HBA (tiny-clip) predict + DoRA gradients']).toBeGreaterThan(20);
    // The fused attention case runs the fused kernels: forward twice (value, then tf.grads), dq once, dk and dv.
    for (const c of result.checks.filter((k) => k.name.endsWith('(fused)'))) {
      expect(c.lwKernels, c.name).toMatchObject({ LwAttention: 2, LwAttentionDq: 1, LwAttentionDkv: 2 });
    }
    expect(result.checks.filter((k) => k.name.endsWith('(fused)'))).toHaveLength(1);
    // Device noise: the Philox integers equal @lw/core's bit for bit; the normals Rng.normals' to float32 rounding.
    const byName = Object.fromEntries(result.checks.map((c) => [c.name, c]));
    const words = byName['Philox words, 3000 blocks of the stream (42, perturb, image_noise, 5, 3)'];
    expect(words.ourKernels).toBe(1);
    expect(words.maxAbsDiff).toBe(0);
    for (const name of ['normal noise [4,61,61,3], N(5.69, 10.18^2), = Rng.normals', 'normal noise, odd size [3,5,7], N(0, 1)']) {
      expect(byName[name].ourKernels, name).toBe(1);
      expect(byName[name].relErr, name).toBeLessThan(1e-6);
    }
  }, 540_000);
});
