import { z } from 'zod';

/**
 * SGD with momentum, PyTorch's exact semantics (torch.optim.SGD, dampening 0, nesterov off):
 *
 *   d = g + wd * p                  (weight decay added to the gradient, not decoupled)
 *   buf = d                          on the first step
 *   buf = momentum * buf + d         afterwards
 *   p  -= lr * buf
 *
 * The learning rate is given per step, since the schedule sets it per epoch. Float32 rounding per
 * op, as in torch.
 */
export const sgdOptions = z.object({
  momentum: z.number().min(0).lt(1).default(0.9),
  weightDecay: z.number().min(0).default(1e-4),
});
export type SgdOptions = z.output<typeof sgdOptions>;

const f = Math.fround;

export class Sgd {
  readonly options: SgdOptions;
  stepCount = 0;
  readonly momentumBuffer = new Map<string, Float32Array>();

  constructor(options: Partial<SgdOptions> = {}) {
    this.options = sgdOptions.parse(options);
  }

  step(params: Map<string, Float32Array>, grads: Map<string, Float32Array>, lr: number): void {
    const wd = f(this.options.weightDecay);
    const mom = f(this.options.momentum);
    const negLr = f(-lr);
    this.stepCount += 1;
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g || g.length !== p.length) throw new Error(`SGD: gradient for ${name} missing or of the wrong size`);
      let buf = this.momentumBuffer.get(name);
      const first = !buf;
      if (!buf) this.momentumBuffer.set(name, (buf = new Float32Array(p.length)));
      for (let i = 0; i < p.length; i++) {
        const d = wd === 0 ? g[i] : f(g[i] + f(wd * p[i]));
        const b = mom === 0 ? d : first ? d : f(f(buf[i] * mom) + d);
        buf[i] = b;
        p[i] = f(p[i] + f(negLr * b));
      }
    }
  }

  stateDict(): { tensors: Map<string, Float32Array>; step: number } {
    const tensors = new Map<string, Float32Array>();
    for (const [k, a] of this.momentumBuffer) tensors.set(`momentum_buffer.${k}`, a);
    return { tensors, step: this.stepCount };
  }

  loadStateDict(state: { tensors: Map<string, Float32Array>; step: number }): void {
    this.momentumBuffer.clear();
    for (const [k, a] of state.tensors) {
      if (!k.startsWith('momentum_buffer.')) throw new Error(`SGD state: unexpected tensor ${k}`);
      this.momentumBuffer.set(k.slice('momentum_buffer.'.length), Float32Array.from(a));
    }
    this.stepCount = state.step;
  }
}
