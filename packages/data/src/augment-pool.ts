import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AugmentJob } from './augment-worker.js';

/**
 * A small pool of worker threads for augmentation (crop + resample + normalise is ~5-10 ms per
 * ImageNet image in JS). Jobs go to idle workers in FIFO order; results come back as transferred
 * buffers. Workers are unref'd, so an unfinished pool never keeps the process alive.
 */
function workerUrl(): URL {
  const beside = new URL('./augment-worker.js', import.meta.url);
  // under vitest this module runs from src/, where only the .ts exists; the built worker is in dist/
  return existsSync(fileURLToPath(beside)) ? beside : new URL('../dist/augment-worker.js', import.meta.url);
}

export class AugmentPool {
  private readonly idle: Worker[] = [];
  private readonly queue: Array<{ job: AugmentJob; resolve: (r: Float32Array) => void; reject: (e: unknown) => void }> = [];
  private readonly all: Worker[] = [];

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(workerUrl());
      w.unref();
      this.all.push(w);
      this.idle.push(w);
    }
  }

  run(job: AugmentJob): Promise<Float32Array> {
    return new Promise((resolve, reject) => { this.queue.push({ job, resolve, reject }); this.pump(); });
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!, { job, resolve, reject } = this.queue.shift()!;
      const done = (r: Float32Array) => { cleanup(); this.idle.push(w); resolve(r); this.pump(); };
      const fail = (e: unknown) => { cleanup(); reject(e); };
      const cleanup = () => { w.off('message', done); w.off('error', fail); };
      w.on('message', done);
      w.on('error', fail);
      w.postMessage(job, [job.pixels.buffer as ArrayBuffer]);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}
