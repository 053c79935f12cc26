/**
 * Multi-threaded tfjs-wasm in Node.
 *
 * tfjs-backend-wasm 4.22 answers WASM_HAS_MULTITHREAD_SUPPORT with false under Node (tfjs issue 3830),
 * and its loader could not start threads there anyway: it hands Emscripten the pthread worker script
 * as a blob: URL, which Node's worker_threads cannot open. So XNNPACK runs on one core.
 *
 * This loader re-registers the 'wasm' backend with a factory that builds the threaded-SIMD Emscripten
 * module itself, from the files the package ships:
 *   wasm-out/tfjs-backend-wasm-threaded-simd.js    the module factory (CommonJS); each pthread worker
 *                                                  evaluates this same file, so it is passed as a path
 *   dist/tfjs-backend-wasm-threaded-simd.wasm      the binary
 *   wasm-out/tfjs-backend-wasm-threaded-simd.worker.js  exports the worker script as a string
 *                                                  (wasmWorkerContents), written here to a real file
 * and then constructs the package's own BackendWasm on it, so every registered wasm kernel runs
 * unchanged. XNNPACK's thread pool gets `threads` threads (the calling thread is one of them).
 * With threads = 1, or when the threaded module cannot start, the stock single-thread SIMD loader runs.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sha256 } from '@lw/core';
import { tf } from './tf.js';
import { installWasmKernels } from './wasm-kernels.js';

const require = createRequire(import.meta.url);

/** The Emscripten module as tfjs' BackendWasm expects it (it reads `tfjs` and calls cwrap/_malloc). */
interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
  tfjs?: Record<string, unknown>;
  /** Emscripten's pthread registry; terminateAllThreads ends the module's workers. */
  PThread: { terminateAllThreads(): void };
}
type WasmImports = { env: Record<string, unknown> } & Record<string, Record<string, unknown>>;
type ModuleFactory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;
type WasmPackage = typeof import('@tensorflow/tfjs-backend-wasm');

/** How the last wasm backend started: the threads XNNPACK got and, for a fallback, why. */
export interface WasmStart {
  threaded: boolean;
  /** Why the threaded module did not start (absent when it did, or when one thread was asked for). */
  fallbackReason?: string;
}

let stockFactory: (() => Promise<tf.KernelBackend>) | null = null;
let lastStart: WasmStart = { threaded: false };
/** The threaded module behind the registered backend, whose workers must end with it. */
let liveModule: EmscriptenModule | null = null;

/** How the wasm backend last started (valid after tf.setBackend('wasm') resolved). */
export function wasmStart(): WasmStart {
  return lastStart;
}

/**
 * Registers the 'wasm' backend so that its next start uses `threads` XNNPACK threads (threaded-SIMD
 * binary when threads > 1, stock single-thread loader otherwise). A running wasm backend is removed
 * first: the thread count is fixed when the module starts. Call before tf.setBackend('wasm').
 */
export async function registerWasm(threads: number): Promise<WasmPackage> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // LW_WASM_STOCK_KERNELS=1 keeps tfjs' own kernels instead of wasm-kernels.ts' (for before/after benchmarks).
  if (process.env.LW_WASM_STOCK_KERNELS !== '1') installWasmKernels();
  const pkgDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const dist = join(pkgDir, 'dist') + '/';
  // The stock loader reads the binaries from node_modules, never from the network.
  wasm.setWasmPaths(dist);
  stockFactory ??= tf.engine().findBackendFactory('wasm') as () => Promise<tf.KernelBackend>;
  if (tf.engine().findBackendFactory('wasm')) tf.removeBackend('wasm');
  // BackendWasm.dispose frees tensors but leaves the pthread workers running (and holding the event loop).
  liveModule?.PThread.terminateAllThreads();
  liveModule = null;
  wasm.setThreadsCount(threads);

  const stock = stockFactory;
  tf.registerBackend('wasm', async () => {
    if (threads > 1) {
      try {
        const module = await threadedModule(pkgDir, threads);
        lastStart = { threaded: true };
        liveModule = module;
        return new wasm.BackendWasm(module as never);
      } catch (e) {
        lastStart = { threaded: false, fallbackReason: e instanceof Error ? e.message : String(e) };
        // The single-thread binary ignores the count; set it so getThreadsCount() reports 1.
        wasm.setThreadsCount(1);
        return stock();
      }
    }
    lastStart = { threaded: false };
    return stock();
  }, 2);
  return wasm;
}

/** Builds the threaded-SIMD Emscripten module, its pthread workers running the script written by workerScript. */
async function threadedModule(pkgDir: string, threads: number): Promise<EmscriptenModule> {
  if (typeof SharedArrayBuffer === 'undefined') throw new Error('no SharedArrayBuffer in this runtime');
  const mainScript = join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const binary = join(pkgDir, 'dist', 'tfjs-backend-wasm-threaded-simd.wasm');
  const factory = require(mainScript) as ModuleFactory;
  const workerFile = workerScript(join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js'));
  const module = await new Promise<EmscriptenModule>((resolve, reject) => {
    factory({
      locateFile: (path: string) => (path.endsWith('.worker.js') ? workerFile : path.endsWith('.wasm') ? binary : join(dirname(mainScript), path)),
      // Each worker evaluates this file to get the same factory (Emscripten's importScripts under Node).
      mainScriptUrlOrBlob: mainScript,
      instantiateWasm: (info: WasmImports, receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) => {
        // tfjs caps the pool at emscripten_num_logical_cores() / 2 (it assumes 2 hyperthreads per core),
        // read once by a static constructor: on 2 cores that is 1 thread. Answer 2 x threads instead so
        // the count asked for is the cap. Only the main thread runs the constructors; workers keep the stock import.
        const env = { ...info.env, emscripten_num_logical_cores: () => 2 * threads };
        WebAssembly.instantiate(readFileSync(binary), { ...info, env }).then((r) => receive(r.instance, r.module), reject);
        return {};
      },
      onAbort: (what: unknown) => reject(new Error(`threaded wasm module aborted: ${String(what)}`)),
    }).then(resolve, reject);
  });
  // The same bridge tfjs' own loader installs (backend_wasm.ts init()).
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

/**
 * Writes the Emscripten pthread worker script (the package's wasmWorkerContents string) to a file
 * named by its hash under the OS temp dir, once, and returns its path. `.cjs`: the script uses require.
 * Written to a unique name and renamed, so parallel processes never see a half-written file.
 */
function workerScript(workerModule: string): string {
  // The string came out of a template literal, which turned the script's "\n" escapes into real
  // newlines inside its string literals; put the escapes back (tfjs' own loader does the same).
  const contents = (require(workerModule) as { wasmWorkerContents: string }).wasmWorkerContents.replace(/\n/g, '\\n');
  const dir = join(tmpdir(), 'lw-tfjs-wasm');
  const file = join(dir, `threaded-simd-${sha256(contents).slice(0, 16)}.worker.cjs`);
  if (existsSync(file) && readFileSync(file, 'utf8') === contents) return file;
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, file);
  return file;
}
