import { adamwUpdate, tf } from '@lw/models';
import type { AdamW } from './adamw.js';

/**
 * AdamW with its moments on the device, for webgpu: one LwAdamW kernel per weight per step, so a
 * training step reads nothing back but its loss (the host optimiser reads 9 gradients and writes 9
 * weights back every step, and the device waits for both). Same scalars as the host AdamW (its
 * nextScalars, which also counts the steps), so its state and checkpoints stay the host optimiser's:
 * `upload` after loading a checkpoint, `download` before writing one.
 */
export class DeviceAdamW {
  private readonly expAvg = new Map<string, tf.Tensor>();
  private readonly expAvgSq = new Map<string, tf.Tensor>();

  constructor(readonly host: AdamW, readonly variables: Map<string, tf.Variable>) {}

  /** The host optimiser's moments onto the device (zeros where it has none yet: a fresh start). */
  upload(): void {
    for (const [name, v] of this.variables) {
      const put = (store: Map<string, tf.Tensor>, host: Map<string, Float32Array>) => {
        store.get(name)?.dispose();
        const values = host.get(name);
        store.set(name, values ? tf.tensor(values, v.shape, 'float32') : tf.zeros(v.shape));
      };
      put(this.expAvg, this.host.expAvg);
      put(this.expAvgSq, this.host.expAvgSq);
    }
  }

  /** One update of every variable from `grads` (by the variables' keys; a missing one counts as zeros). */
  step(grads: Map<string, tf.Tensor | undefined>, lr = this.host.options.lr): void {
    const s = this.host.nextScalars(lr);
    for (const [name, v] of this.variables) {
      const g = grads.get(name) ?? tf.zerosLike(v);
      const [p1, m1, v1] = adamwUpdate(v, g, this.expAvg.get(name)!, this.expAvgSq.get(name)!, s);
      if (!grads.get(name)) g.dispose();
      // assign shares p1's data with the variable; p1 itself is freed (kept, it would leak a copy a step).
      v.assign(p1);
      p1.dispose();
      this.expAvg.get(name)!.dispose();
      this.expAvgSq.get(name)!.dispose();
      this.expAvg.set(name, m1);
      this.expAvgSq.set(name, v1);
    }
  }

  /** Moments into the host optimiser and the variables' values into `values` (a checkpoint's contents). */
  async download(values: Map<string, Float32Array>): Promise<void> {
    for (const [name, v] of this.variables) {
      const [p, m, s] = await Promise.all([v.data(), this.expAvg.get(name)!.data(), this.expAvgSq.get(name)!.data()]);
      values.get(name)!.set(p as Float32Array);
      this.host.expAvg.set(name, Float32Array.from(m as Float32Array));
      this.host.expAvgSq.set(name, Float32Array.from(s as Float32Array));
    }
  }

  dispose(): void {
    tf.dispose([...this.expAvg.values(), ...this.expAvgSq.values()]);
    this.expAvg.clear();
    this.expAvgSq.clear();
  }
}
