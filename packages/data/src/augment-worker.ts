import { parentPort } from 'node:worker_threads';
import { resampleCrop, type Box } from './resample.js';

/**
 * Worker side of the augmentation pool: resamples crops of stored uint8 images and normalises them.
 * The crop boxes and flips are drawn on the main thread (they are cheap and must follow the RNG
 * order exactly), so workers do only the arithmetic.
 */
export interface AugmentJob {
  /** Stored pixels of every sample in this job, concatenated; `offsets[i]` starts sample i. */
  pixels: Uint8Array;
  offsets: number[];
  heights: number[];
  widths: number[];
  boxes: Box[];
  flips: boolean[];
  out: number; // output side
  mean: number[];
  std: number[];
}

export function runJob(job: AugmentJob): Float32Array {
  const { out, mean, std } = job;
  const px = out * out;
  const result = new Float32Array(job.boxes.length * px * 3); // [n, out, out, 3]
  job.boxes.forEach((box, i) => {
    resampleCrop(job.pixels, job.offsets[i], job.heights[i], job.widths[i], box, out, out, result, i * px * 3, job.flips[i]);
  });
  for (let i = 0; i < result.length; i += 3) {
    result[i] = (result[i] / 255 - mean[0]) / std[0];
    result[i + 1] = (result[i + 1] / 255 - mean[1]) / std[1];
    result[i + 2] = (result[i + 2] / 255 - mean[2]) / std[2];
  }
  return result;
}

parentPort?.on('message', (job: AugmentJob) => {
  const result = runJob(job);
  parentPort!.postMessage(result, [result.buffer as ArrayBuffer]);
});
