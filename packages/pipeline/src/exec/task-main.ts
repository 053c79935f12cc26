import { formatError } from '@lw/core';
import { Cache } from '../cache/cache.js';
import { removeTree } from '../cache/read-only.js';
import { loadRegistry } from '../stages/registry.js';
import { inFlight, readSpec, runTask } from './task-runner.js';
import type { TaskMessage, WorkerMessage } from './task-messages.js';

/**
 * Entry of the local executor's child processes: `node task-main.js KEY CACHE_DIR`, with an IPC
 * channel. It runs task KEY, then waits for further `{ type: 'run', key }` messages and runs those
 * one at a time in the same process, so that a study's tasks pay Node's start and the imports of
 * tfjs and the stage packages once per worker instead of once per task (~1.5 CPU-s each on the
 * 2-core sandbox). After a failed task it exits: a fresh process takes the next task.
 * Cancelled by SIGTERM/SIGINT, or when the parent dies (the IPC channel disconnects, as after a
 * kill -9 of `lw run`): a running stage's signal aborts, and if the stage does not return within
 * a grace period the temp dir and lock are removed and the process exits anyway. Idle, it exits
 * at once on any of those.
 */
const GRACE_MS = 5_000;
const [firstKey, cacheDir] = process.argv.slice(2);
const cache = new Cache(cacheDir);
let running: AbortController | undefined;

function send(message: TaskMessage): void {
  if (process.connected) process.send?.(message);
}

function cancel(): void {
  if (!running) process.exit(0);
  if (running.signal.aborted) return;
  running.abort();
  setTimeout(() => {
    if (inFlight.tmp) removeTree(inFlight.tmp);
    inFlight.lock?.release();
    process.exit(130);
  }, GRACE_MS).unref();
}

async function runOne(key: string): Promise<void> {
  const controller = (running = new AbortController());
  try {
    const outcome = await runTask(cache, key, {
      signal: controller.signal,
      registry: await loadRegistry(cache.has(key) ? [] : [readSpec(cache, key).stage]),
      onStart: () => send({ type: 'started' }),
      onProgress: (done, total, note) => send({ type: 'progress', done, total, note }),
    });
    running = undefined;
    send({ type: 'done', outcome });
  } catch (e) {
    process.stderr.write(formatError(e) + '\n');
    send({ type: 'failed', reason: controller.signal.aborted ? 'cancelled' : e instanceof Error ? e.message.split('\n')[0] : String(e) });
    process.exitCode = controller.signal.aborted ? 130 : 1;
    if (process.connected) process.disconnect();
  }
}

// Output goes to the parent through pipes: after a kill -9 of the parent a write fails with EPIPE,
// which must not crash this process before it has cleaned up.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});
// Whatever ends this process but SIGKILL (the grace timer, a throw in a handler, a natural exit),
// the temp dir of a task in flight goes with it: it is never a cache entry, and no one else removes it.
process.on('exit', () => {
  try {
    if (inFlight.tmp) removeTree(inFlight.tmp);
  } catch {
    // lw run's start-up sweep (cache.sweepTemp) removes what could not be removed here.
  }
});
process.on('SIGTERM', cancel);
process.on('SIGINT', cancel);
process.on('disconnect', cancel);
process.on('message', (m: WorkerMessage) => {
  if (m.type === 'run' && !running) void runOne(m.key);
});
// The parent may have died before this handler existed (kill -9 right after the fork).
if (!process.connected) process.exit(0);
await runOne(firstKey);
