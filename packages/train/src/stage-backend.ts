import type { StageContext, StageResources } from '@lw/core';
import { backendUsesGpu, initBackend, type BackendInfo, type BackendName } from '@lw/models';

/**
 * What every train stage does with its `backend` param: starts that tfjs backend on the threads
 * and GPUs the executor gave the task, records it in the task's params.json, and asks for a GPU
 * when the backend needs one.
 */

/**
 * Starts `backend` with the task's share of the cores (`ctx.threads`; env LW_WASM_THREADS, the
 * user's override, still wins) and its GPUs, and records it (`backend` in params.json).
 */
export async function startBackend(ctx: Pick<StageContext<unknown>, 'threads' | 'gpus' | 'record'>, backend: BackendName): Promise<BackendInfo> {
  const info = await initBackend({ backend, taskThreads: ctx.threads, gpus: ctx.gpus });
  ctx.record({ backend: info });
  return info;
}

/** A stage's `resources`: one GPU when its params pick a GPU backend (webgpu), else none. */
export function backendResources(params: { backend: BackendName }): StageResources {
  return backendUsesGpu(params.backend) ? { gpus: 1 } : {};
}
