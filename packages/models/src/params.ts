import { Rng } from '@lw/core';
import { tf } from './tf.js';

/**
 * A model's weights by their checkpoint names (OpenAI CLIP or timm state-dict names, PyTorch layout:
 * Linear weight [out, in]). Plain tensors are frozen; trainable weights are tf.Variables.
 * `computed` overrides a name with a function of other tensors (DoRA's effective out_proj weight),
 * which counts as needing gradients.
 */
export class ParamStore {
  readonly computed = new Map<string, () => tf.Tensor>();
  /** Tensors made once from a frozen weight (see `derived`), with the weight they were made from. */
  private readonly derivedCache = new Map<string, { source: tf.Tensor; value: tf.Tensor }>();
  constructor(readonly tensors: Map<string, tf.Tensor>) {}

  get<T extends tf.Tensor = tf.Tensor>(name: string): T {
    const fn = this.computed.get(name);
    if (fn) return fn() as T;
    const t = this.tensors.get(name);
    if (!t) throw new Error(`ParamStore: no parameter "${name}"`);
    return t as T;
  }

  /** Whether gradients must flow into this weight. */
  needsGrad(name: string): boolean {
    if (this.computed.has(name)) return true;
    const t = this.tensors.get(name);
    return t instanceof tf.Variable && t.trainable;
  }

  /**
   * `make(weight)` for the frozen weight `name`, computed on first use and kept until the store is
   * disposed (or the weight replaced): e.g. a transposed copy that would otherwise be rebuilt on
   * every forward pass. `key` tells several tensors derived from one weight apart.
   */
  derived<T extends tf.Tensor>(name: string, key: string, make: (weight: tf.Tensor) => T): T {
    const source = this.get(name);
    const id = `${name}#${key}`;
    const hit = this.derivedCache.get(id);
    if (hit && hit.source === source && !hit.value.isDisposed) return hit.value as T;
    hit?.value.dispose();
    const value = tf.keep(tf.tidy(() => make(source)));
    this.derivedCache.set(id, { source, value });
    return value;
  }

  /** Total number of scalars stored. */
  count(): number {
    let n = 0;
    for (const t of this.tensors.values()) n += t.size;
    return n;
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    for (const d of this.derivedCache.values()) d.value.dispose();
    this.derivedCache.clear();
    this.tensors.clear();
    this.computed.clear();
  }
}

/** How one parameter is initialised (each from its own stream `Rng(seed, 'init', name)`). */
export type Init =
  | { kind: 'zeros' } | { kind: 'ones' }
  | { kind: 'normal'; std: number }
  /** timm's trunc_normal_(std, a=-2, b=2): normal redrawn outside the absolute bounds ±2. */
  | { kind: 'trunc_normal'; std: number }
  /** U(-bound, bound): PyTorch's kaiming_uniform_(a=√5) has bound 1/√fan_in. */
  | { kind: 'uniform'; bound: number }
  | { kind: 'constant'; value: number };

export interface ParamSpec {
  shape: number[];
  init: Init;
}

export function initValues(spec: ParamSpec, rng: Rng): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const init = spec.init;
  switch (init.kind) {
    case 'zeros': break;
    case 'ones': out.fill(1); break;
    case 'constant': out.fill(init.value); break;
    case 'normal': rng.normals(n, 0, init.std, out); break;
    case 'uniform': rng.uniforms(n, -init.bound, init.bound, out); break;
    case 'trunc_normal':
      for (let i = 0; i < n; i++) {
        let v = init.std * rng.normal();
        while (v < -2 || v > 2) v = init.std * rng.normal();
        out[i] = v;
      }
      break;
  }
  return out;
}

/** Fresh parameters from specs: frozen tensors, or tf.Variables when `trainable`. */
export function initParams(specs: Map<string, ParamSpec>, seed: number, trainable: boolean): ParamStore {
  const tensors = new Map<string, tf.Tensor>();
  for (const [name, spec] of specs) {
    const t = tf.tensor(initValues(spec, new Rng(seed, 'init', name)), spec.shape, 'float32');
    // Variables stay unnamed: tfjs names are global, and two models may share checkpoint names.
    tensors.set(name, trainable ? tf.variable(t, true) : t);
    if (trainable) t.dispose();
  }
  return new ParamStore(tensors);
}
