import { z } from 'zod';
import type { AdamWScalars } from '@lw/models';

/**
 * AdamW with PyTorch's exact semantics (torch.optim.AdamW, single-tensor CPU path, amsgrad off):
 *
 *   step += 1
 *   p   *= 1 - lr * wd                       (decoupled weight decay, before the Adam update)
 *   m    = m + (1 - b1) * (g - m)            (torch's lerp_, = b1*m + (1-b1)*g)
 *   v    = v * b2 + (1 - b2) * g * g
 *   denom = sqrt(v) / sqrt(1 - b2^step) + eps
 *   p   += (-lr / (1 - b1^step)) * m / denom
 *
 * Scalars are computed in float64 as Python does and rounded to float32 where torch casts them to
 * the tensor dtype; every tensor op rounds to float32 (Math.fround), so results match torch to the
 * last bit or two (torch may fuse a multiply-add). Parameters, gradients and moments are flat
 * Float32Arrays keyed by parameter name; the caller moves them to and from tfjs.
 */
export const adamwOptions = z.object({
  lr: z.number().positive().default(3e-4),
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  eps: z.number().positive().default(1e-8),
  weightDecay: z.number().min(0).default(0.01),
});
export type AdamWOptions = z.output<typeof adamwOptions>;

const f = Math.fround;

export class AdamW {
  readonly options: AdamWOptions;
  /** Number of steps taken (torch keeps one per parameter; ours all step together). */
  stepCount = 0;
  readonly expAvg = new Map<string, Float32Array>();
  readonly expAvgSq = new Map<string, Float32Array>();

  constructor(options: Partial<AdamWOptions> = {}) {
    this.options = adamwOptions.parse(options);
  }

  /**
   * The step's float32 scalars (after counting the step), as torch rounds them: the host loop below and
   * the device kernel (@lw/models' adamwUpdate) use the same ones.
   */
  nextScalars(lr = this.options.lr): AdamWScalars {
    const { beta1, beta2, eps, weightDecay } = this.options;
    this.stepCount += 1;
    return {
      decay: f(1 - lr * weightDecay),
      w: f(1 - beta1),
      b2: f(beta2),
      omb2: f(1 - beta2),
      bc2Sqrt: f(Math.sqrt(1 - beta2 ** this.stepCount)),
      negStep: f(-(lr / (1 - beta1 ** this.stepCount))),
      eps: f(eps),
    };
  }

  /** One update of every parameter in `params` (in place) from `grads` (same names and sizes). */
  step(params: Map<string, Float32Array>, grads: Map<string, Float32Array>, lr = this.options.lr): void {
    const { decay, w, b2, omb2: oneMinusB2, bc2Sqrt, negStep, eps: epsF } = this.nextScalars(lr);
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g || g.length !== p.length) throw new Error(`AdamW: gradient for ${name} missing or of the wrong size`);
      const m = this.moment(this.expAvg, name, p.length);
      const v = this.moment(this.expAvgSq, name, p.length);
      for (let i = 0; i < p.length; i++) {
        const pi = f(p[i] * decay);
        const gi = g[i];
        const mi = f(m[i] + f(w * f(gi - m[i])));
        const vi = f(f(v[i] * b2) + f(f(oneMinusB2 * gi) * gi));
        const denom = f(f(Math.sqrt(vi) / bc2Sqrt) + epsF);
        m[i] = mi;
        v[i] = vi;
        p[i] = f(pi + f(f(negStep * mi) / denom));
      }
    }
  }

  private moment(store: Map<string, Float32Array>, name: string, n: number): Float32Array {
    let a = store.get(name);
    if (!a) store.set(name, (a = new Float32Array(n)));
    return a;
  }

  /** State as flat named arrays (`exp_avg.<name>`, `exp_avg_sq.<name>`) plus the step count. */
  stateDict(): { tensors: Map<string, Float32Array>; step: number } {
    const tensors = new Map<string, Float32Array>();
    for (const [k, a] of this.expAvg) tensors.set(`exp_avg.${k}`, a);
    for (const [k, a] of this.expAvgSq) tensors.set(`exp_avg_sq.${k}`, a);
    return { tensors, step: this.stepCount };
  }

  loadStateDict(state: { tensors: Map<string, Float32Array>; step: number }): void {
    this.expAvg.clear();
    this.expAvgSq.clear();
    for (const [k, a] of state.tensors) {
      if (k.startsWith('exp_avg_sq.')) this.expAvgSq.set(k.slice('exp_avg_sq.'.length), Float32Array.from(a));
      else if (k.startsWith('exp_avg.')) this.expAvg.set(k.slice('exp_avg.'.length), Float32Array.from(a));
      else throw new Error(`AdamW state: unexpected tensor ${k}`);
    }
    this.stepCount = state.step;
  }
}
