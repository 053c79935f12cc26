import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { adamwUpdate, initBackend, tf } from '@lw/models';
import { AdamW } from './adamw.js';
import { Sgd } from './sgd.js';

// Trajectories written by torch.optim (fixtures/make_optim_fixtures.py, Debian's PyTorch).
interface Trajectory {
  p0: number[];
  grads: number[][];
  lrs: number[];
  steps: Array<{ param: number[]; state: Record<string, number[]> }>;
}
const fixtures = JSON.parse(readFileSync(new URL('../../fixtures/optim_fixtures.json', import.meta.url), 'utf8')) as Record<string, Trajectory>;

/**
 * Largest difference in units of float32 spacing (2^-23 relative) at the largest reference value:
 * float32 agreement, robust to entries that cancel to near zero.
 */
function maxUlps(a: Float32Array, ref: number[]): number {
  const scale = Math.max(...ref.map(Math.abs)) * 2 ** -23;
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(a[i] - ref[i]) / scale);
  return worst;
}

function replay(t: Trajectory, opt: { step(p: Map<string, Float32Array>, g: Map<string, Float32Array>, lr: number): void }, check: (k: number, p: Float32Array) => void) {
  const p = Float32Array.from(t.p0);
  const params = new Map([['w', p]]);
  t.grads.forEach((g, k) => {
    opt.step(params, new Map([['w', Float32Array.from(g)]]), t.lrs[k]);
    check(k, p);
  });
}

describe('AdamW matches torch.optim.AdamW', () => {
  for (const name of ['adamw', 'adamw_big', 'adamw_tiny']) {
    it(`${name}: params and moments within 4 float32 ulps over 6 steps`, () => {
      const t = fixtures[name];
      const opt = new AdamW({ adamw: {}, adamw_big: { lr: 0.1, weightDecay: 0.5 }, adamw_tiny: { lr: 1e-2 } }[name]);
      replay(t, opt, (k, p) => {
        expect(maxUlps(p, t.steps[k].param)).toBeLessThanOrEqual(4);
        expect(maxUlps(opt.expAvg.get('w')!, t.steps[k].state.exp_avg)).toBeLessThanOrEqual(4);
        expect(maxUlps(opt.expAvgSq.get('w')!, t.steps[k].state.exp_avg_sq)).toBeLessThanOrEqual(4);
      });
      expect(opt.stepCount).toBe(6);
    });
  }
  // The device update (@lw/models' adamwUpdate: one LwAdamW kernel on webgpu, checked against these same
  // tf ops on lavapipe by webgpu/parity.test.ts) with the host optimiser's scalars, against torch.
  describe('on the device (adamwUpdate with nextScalars)', () => {
    beforeAll(async () => { await initBackend({ backend: 'cpu' }); });
    for (const name of ['adamw', 'adamw_big', 'adamw_tiny']) {
      it(`${name}: params and moments within 4 float32 ulps over 6 steps`, () => {
        const t = fixtures[name];
        const opt = new AdamW({ adamw: {}, adamw_big: { lr: 0.1, weightDecay: 0.5 }, adamw_tiny: { lr: 1e-2 } }[name]);
        let p = tf.tensor1d(t.p0), m = tf.zerosLike(p), v = tf.zerosLike(p);
        t.grads.forEach((g, k) => {
          const next = adamwUpdate(p, tf.tensor1d(g), m, v, opt.nextScalars(t.lrs[k]));
          tf.dispose([p, m, v]);
          [p, m, v] = next;
          expect(maxUlps(p.dataSync() as Float32Array, t.steps[k].param)).toBeLessThanOrEqual(4);
          expect(maxUlps(m.dataSync() as Float32Array, t.steps[k].state.exp_avg)).toBeLessThanOrEqual(4);
          expect(maxUlps(v.dataSync() as Float32Array, t.steps[k].state.exp_avg_sq)).toBeLessThanOrEqual(4);
        });
        tf.dispose([p, m, v]);
      });
    }
  });
  it('defaults to the study constants (method §1.4)', () => {
    expect(new AdamW().options).toEqual({ lr: 3e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
  });
  it('first step by hand: moves each weight by lr*sign(g) after the decay', () => {
    // m_hat = g, v_hat = g^2 after step 1, so p1 = p0*(1 - lr*wd) - lr * g/(|g| + eps)
    const opt = new AdamW({ lr: 0.1, weightDecay: 0.5 });
    const p = new Float32Array([2, -1]);
    opt.step(new Map([['w', p]]), new Map([['w', new Float32Array([3, -0.5])]]));
    expect(p[0]).toBeCloseTo(2 * 0.95 - 0.1, 6);
    expect(p[1]).toBeCloseTo(-1 * 0.95 + 0.1, 6);
  });
  it('state round-trips: a restored optimiser continues identically', () => {
    const t = fixtures.adamw;
    const a = new AdamW(), b = new AdamW();
    const pa = Float32Array.from(t.p0);
    for (let k = 0; k < 3; k++) a.step(new Map([['w', pa]]), new Map([['w', Float32Array.from(t.grads[k])]]));
    b.loadStateDict(a.stateDict());
    const pb = Float32Array.from(pa);
    for (let k = 3; k < 6; k++) {
      a.step(new Map([['w', pa]]), new Map([['w', Float32Array.from(t.grads[k])]]));
      b.step(new Map([['w', pb]]), new Map([['w', Float32Array.from(t.grads[k])]]));
    }
    expect(pb).toEqual(pa);
  });
});

describe('SGD matches torch.optim.SGD (momentum 0.9, dampening 0)', () => {
  for (const name of ['sgd', 'sgd_wd']) {
    it(`${name}: params and momentum buffer within 4 ulps over 6 steps with a changing lr`, () => {
      const t = fixtures[name];
      const opt = new Sgd({ momentum: 0.9, weightDecay: name === 'sgd' ? 1e-4 : 0.3 });
      replay(t, opt, (k, p) => {
        expect(maxUlps(p, t.steps[k].param)).toBeLessThanOrEqual(4);
        expect(maxUlps(opt.momentumBuffer.get('w')!, t.steps[k].state.momentum_buffer)).toBeLessThanOrEqual(4);
      });
    });
  }
  it('first step by hand: buffer = g + wd*p, no dampening', () => {
    const opt = new Sgd({ momentum: 0.9, weightDecay: 0.1 });
    const p = new Float32Array([1]);
    opt.step(new Map([['w', p]]), new Map([['w', new Float32Array([2])]]), 0.5);
    expect(p[0]).toBeCloseTo(1 - 0.5 * 2.1, 6);
    opt.step(new Map([['w', p]]), new Map([['w', new Float32Array([0])]]), 0.5);
    // buf = 0.9*2.1 + 0.1*(-0.05) = 1.885
    expect(p[0]).toBeCloseTo(-0.05 - 0.5 * 1.885, 6);
  });
});
