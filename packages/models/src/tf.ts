/**
 * The one tfjs-core instance of the process. Everything (models, training, evaluation) imports `tf`
 * from here, so that backends registered on it are seen by every package.
 *
 * tfjs-core's Node entry (a CJS bundle) registers neither gradients nor the chained ops
 * (`x.reshape(...)`); the `@tensorflow/tfjs` union imports `dist/register_all_gradients` and
 * `dist/public/chained_ops/register_all_chained_ops` for that, and so do we. Those are ESM files with
 * extensionless imports, which Node loads only through the small resolve hook in tfjs_esm_hook.ts.
 * They attach to the same engine and registries as the CJS bundle: tfjs keeps both on globalThis.
 * (Under a bundler such as esbuild, imports resolve without the hook, which is then absent.)
 */
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import * as tfcore from '@tensorflow/tfjs-core';
// The cpu backend is always present: it is the last resort and the reference in numerical tests.
import '@tensorflow/tfjs-backend-cpu';

const hook = new URL('./tfjs_esm_hook.js', import.meta.url);
if (existsSync(hook)) register(hook.href);

// Importing the ESM copy's side-effect modules re-registers tfjs' flags and platform on the shared
// environment, which only warns; keep those warnings off the console.
const warn = console.warn;
console.warn = () => {};
try {
  await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  await import('@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js');
} finally {
  console.warn = warn;
}

// PROD only silences tfjs' "install tfjs-node" banner on the cpu backend.
tfcore.env().set('PROD', true);

export * as tf from '@tensorflow/tfjs-core';
