import { tf } from '../tf.js';

/**
 * Tensors saved for the backward pass without an engine op each. tfjs-core 4.22 saves every tensor a
 * kernel or custom gradient keeps for its gradient through `Engine.clone`: an Identity kernel run
 * through the whole engine (kernel lookup, scopes, a tape node) plus a second tape node of its own,
 * ~180 a CLIP-HBA training step, ~13 us of host time each on the H200 machine (bench/model-step
 * --native). A saved tensor is only ever read by gradient functions, never by a forward op, so its
 * tape nodes are never on a path to the loss: a new tensor on the same data (as the Identity kernel
 * makes on webgpu) is the same thing without them. Higher-order gradients (through gradient
 * functions) would need those nodes; nothing here takes them. Installed for webgpu only, where the
 * host time per op limits the step; `setSavedTensorsFast(false)` restores tfjs' own path.
 */
interface Engine {
  clone(x: tf.Tensor): tf.Tensor;
  backend: { incRef(dataId: object): void };
  makeTensorFromTensorInfo(info: { dataId: object; shape: number[]; dtype: string }): tf.Tensor;
}

let enabled = true;
let installed = false;

export function setSavedTensorsFast(on: boolean): void {
  enabled = on;
}

export function installSavedTensors(): void {
  if (installed) return;
  installed = true;
  const engine = tf.engine() as unknown as Engine;
  const clone = engine.clone.bind(engine);
  engine.clone = (x) => {
    if (!enabled || tf.getBackend() !== 'webgpu') return clone(x);
    engine.backend.incRef(x.dataId);
    return engine.makeTensorFromTensorInfo({ dataId: x.dataId, shape: x.shape, dtype: x.dtype });
  };
}
