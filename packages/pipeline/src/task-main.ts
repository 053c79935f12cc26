import { rmSync } from 'node:fs';
import { formatError } from '@lw/core';
import { Cache } from './cache.js';
import { loadRegistry } from './registry.js';
import { inFlight, readSpec, runTask } from './task-runner.js';
import type { TaskMessage } from './task-messages.js';

/**
 * Entry of the local executor's child processes: `node task-main.js KEY CACHE_DIR`, with an IPC
 * channel. Cancelled by SIGTERM/SIGINT, or when the parent dies (the IPC channel disconnects, as
 * after a kill -9 of `lw run`): the stage's signal aborts, and if the stage does not return within
 * a grace period the temp dir and lock are removed and the process exits anyway.
 */
const GRACE_MS = 5_000;
const [key, cacheDir] = process.argv.slice(2);
const controller = new AbortController();

function send(message: TaskMessage): void {
  if (process.connected) process.send?.(message);
}

function cancel(): void {
  if (controller.signal.aborted) return;
  controller.abort();
  setTimeout(() => {
    if (inFlight.tmp) rmSync(inFlight.tmp, { recursive: true, force: true });
    inFlight.lock?.release();
    process.exit(130);
  }, GRACE_MS).unref();
}

process.on('SIGTERM', cancel);
process.on('SIGINT', cancel);
process.on('disconnect', cancel);
// The parent may have died before this handler existed (kill -9 right after the fork).
if (!process.connected) cancel();

try {
  const cache = new Cache(cacheDir);
  const outcome = await runTask(cache, key, {
    signal: controller.signal,
    registry: await loadRegistry(cache.has(key) ? [] : [readSpec(cache, key).stage]),
    onStart: () => send({ type: 'started' }),
    onProgress: (done, total, note) => send({ type: 'progress', done, total, note }),
  });
  send({ type: 'done', outcome });
  process.exitCode = 0;
} catch (e) {
  process.stderr.write(formatError(e) + '\n');
  send({ type: 'failed', reason: controller.signal.aborted ? 'cancelled' : e instanceof Error ? e.message.split('\n')[0] : String(e) });
  process.exitCode = controller.signal.aborted ? 130 : 1;
}
if (process.connected) process.disconnect();
