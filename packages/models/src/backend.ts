import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { UserError } from '@lw/core';
import { z } from 'zod';
import { tf } from './tf.js';
import { prepareBatchedGemm } from './wasm-gemm.js';
import { registerWasm, wasmStart } from './wasm-threads.js';
import { installDispatchCache } from './webgpu/dispatch-cache.js';
import { installSavedTensors } from './webgpu/saved-tensors.js';

export const BackendName = z.enum(['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']);
export type BackendName = z.infer<typeof BackendName>;

/** What ran the numbers; training records it in every result. */
export interface BackendInfo {
  name: 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  /** tfjs-core version, plus the binding's version for tensorflow. */
  version: string;
  threads?: number;
  /** wasm only: why the threaded module did not start when more than one thread was asked for. */
  fallback?: string;
  /** WebGPU adapter, e.g. "nvidia nvidia-h200 (ampere)". */
  adapter?: string;
  /** The GPU(s) the executor gave the task (initBackend's `gpus`, e.g. "1"), for tensorflow and webgpu. */
  gpu?: string;
}

const require = createRequire(import.meta.url);

/** Whether a backend needs a GPU of the machine: a stage that runs on it asks the executor for one. */
export function backendUsesGpu(name: BackendName): boolean {
  return name === 'webgpu';
}

export interface InitBackendOptions {
  /** Forces a backend; else env LW_BACKEND, else 'auto'. */
  backend?: BackendName;
  /** wasm only: XNNPACK threads, whatever env LW_WASM_THREADS says (benches, tests). */
  threads?: number;
  /**
   * wasm only: the threads the caller was given (a pipeline task's share of the cores, `ctx.threads`),
   * used when neither `threads` nor env LW_WASM_THREADS (the user's override) says a count.
   */
  taskThreads?: number;
  /**
   * The GPU ids the executor gave this task (`ctx.gpus`), recorded in BackendInfo.gpu for tensorflow
   * and webgpu. CUDA honours CUDA_VISIBLE_DEVICES, which the executor sets beside it; Dawn picks its
   * adapter itself (the first high-performance one), so on a machine of several GPUs the webgpu
   * backend's adapter choice by this id is still open (bench/RESULTS.md, issue 21).
   */
  gpus?: readonly string[];
}

let current: BackendInfo | null = null;
let wasmThreads = 1;

/**
 * Picks, starts and reports the tfjs backend. `backend` (else env LW_BACKEND, else 'auto') forces one;
 * a forced backend that cannot start throws a UserError instead of falling back silently.
 * 'auto' tries tensorflow (tfjs-node[-gpu] if installed) > webgpu (only if a GPU adapter exists) > wasm > cpu.
 * Calling it again with the same choice returns the running backend.
 *
 * `threads` (wasm only; else env LW_WASM_THREADS, else `taskThreads`, else 1) sizes XNNPACK's thread pool; more than 1
 * loads the threaded-SIMD binary (wasm-threads.ts). Asking a running wasm backend for another count
 * restarts it. One thread is the default because threads pay only for large products on free cores:
 * XNNPACK's pool hand-off made a width-64 ViT block cost 2-7x the CPU at 2 threads, and pipeline tasks
 * share the cores (--jobs at a time). A process that has the cores to itself and runs ViT-L-sized
 * layers should ask for cores / (processes sharing them) threads: a pipeline task passes the share the
 * executor gave it as `taskThreads`.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const raw = opts.backend ?? process.env.LW_BACKEND ?? 'auto';
  const parsed = BackendName.safeParse(raw);
  if (!parsed.success) {
    throw new UserError(`unknown backend "${raw}"`, `use one of ${BackendName.options.join(', ')} (flag --backend or env LW_BACKEND)`);
  }
  const wanted = parsed.data;
  const sameThreads = opts.threads === undefined || current?.name !== 'wasm' || current.threads === opts.threads;
  if (current && (wanted === 'auto' || wanted === current.name) && sameThreads) return current;

  // Without a Vulkan loader Dawn finds no adapter anyway, after printing warnings into every task log.
  const autoOrder: Exclude<BackendName, 'auto'>[] = vulkanLoaderPresent() ? ['tensorflow', 'webgpu', 'wasm', 'cpu'] : ['tensorflow', 'wasm', 'cpu'];
  const order: Exclude<BackendName, 'auto'>[] = wanted === 'auto' ? autoOrder : [wanted];
  if (order.includes('wasm')) wasmThreads = wasmThreadCount(opts.threads, process.env, opts.taskThreads);
  const pinned = opts.gpus?.length ? { gpu: opts.gpus.join(',') } : {};
  const failures: string[] = [];
  for (const name of order) {
    try {
      current = await starters[name](pinned);
      return current;
    } catch (e) {
      failures.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw new UserError(`backend "${wanted}" could not start (${failures.join('; ')})`,
    wanted === 'auto' ? 'the cpu backend should always start: is @tensorflow/tfjs-backend-cpu installed?'
      : 'choose another backend with --backend / LW_BACKEND, or "auto" to take the best available');
}

/** XNNPACK threads for the wasm backend: the option, else env LW_WASM_THREADS (set and not empty), else `taskThreads`, else 1. */
export function wasmThreadCount(option?: number, env: NodeJS.ProcessEnv = process.env, taskThreads?: number): number {
  const fromEnv = env.LW_WASM_THREADS === '' ? undefined : env.LW_WASM_THREADS;
  const raw = option ?? fromEnv ?? taskThreads;
  if (raw === undefined) return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    const where = option !== undefined ? 'option threads' : fromEnv !== undefined ? 'env LW_WASM_THREADS' : 'option taskThreads';
    throw new UserError(`${where} is ${JSON.stringify(raw)}, not a thread count`, 'give a whole number >= 1 (1 = single-thread wasm, the default when unset)');
  }
  return n;
}

/** Whether libvulkan.so.1 is where the dynamic loader looks (system dirs or LD_LIBRARY_PATH). */
export function vulkanLoaderPresent(env: NodeJS.ProcessEnv = process.env): boolean {
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu'];
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
}

async function activate(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
}

const starters: Record<Exclude<BackendName, 'auto'>, (pinned: { gpu?: string }) => Promise<BackendInfo>> = {
  async tensorflow(pinned) {
    // Optional peers: their install downloads libtensorflow, so they are often absent.
    let binding = '';
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        await import(pkg);
        binding = pkg;
        break;
      } catch {
        // try the next one
      }
    }
    if (!binding) throw new Error('neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed');
    await activate('tensorflow');
    const version = (require(`${binding}/package.json`) as { version: string }).version;
    return { name: 'tensorflow', version: `${tf.version_core} (${binding} ${version})`, ...pinned };
  },

  async webgpu(pinned) {
    // tfjs-backend-webgpu registers itself at import time only if navigator.gpu exists, so Dawn's
    // navigator.gpu is installed first and the backend imported after, dynamically.
    const { create, globals } = (await import('webgpu' as string)) as {
      create: (flags: string[]) => { requestAdapter(o: object): Promise<{ info: Record<string, string> } | null> };
      globals: object;
    };
    Object.assign(globalThis, globals);
    // LW_DAWN_FLAGS: Dawn options, space-separated (e.g. enable-dawn-features=disable_robustness,skip_validation).
    const gpu = create((process.env.LW_DAWN_FLAGS ?? '').split(/\s+/).filter(Boolean));
    if (globalThis.navigator) {
      Object.defineProperty(globalThis.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
    } else {
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    }
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new Error('no WebGPU adapter (no Vulkan driver? see VK_DRIVER_FILES)');
    await import('@tensorflow/tfjs-backend-webgpu');
    await activate('webgpu');
    installDispatchCache(tf.backend()); // before the first kernel compiles (webgpu/dispatch-cache.ts)
    installSavedTensors();
    // Dawn keeps the event loop alive; the CLI ends with process.exit, and so must other entry points.
    const { vendor, device, architecture } = adapter.info;
    return { name: 'webgpu', version: tf.version_core, adapter: [vendor, device, architecture && `(${architecture})`].filter(Boolean).join(' '), ...pinned };
  },

  async wasm() {
    await prepareBatchedGemm();
    const wasm = await registerWasm(wasmThreads);
    await activate('wasm');
    const { fallbackReason } = wasmStart();
    // getThreadsCount() asks XNNPACK's pool, so this is the count that runs, not the one asked for.
    return { name: 'wasm', version: tf.version_core, threads: wasm.getThreadsCount(), ...(fallbackReason ? { fallback: fallbackReason } : {}) };
  },

  async cpu() {
    await activate('cpu');
    return { name: 'cpu', version: tf.version_core, threads: 1 };
  },
};
