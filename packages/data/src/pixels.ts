/** Small pixel helpers shared by writers and readers. */

/** Per-channel mean and population std of uint8 RGB pixels, on the [0, 1] scale: for normalisation constants. */
export function channelStats(pixels: Uint8Array): { mean: [number, number, number]; std: [number, number, number] } {
  const s = [0, 0, 0], s2 = [0, 0, 0];
  for (let i = 0; i < pixels.length; i += 3) {
    for (let c = 0; c < 3; c++) { const v = pixels[i + c] / 255; s[c] += v; s2[c] += v * v; }
  }
  const n = pixels.length / 3;
  const mean = s.map((x) => x / n) as [number, number, number];
  const std = s2.map((x, c) => Math.sqrt(Math.max(0, x / n - mean[c] ** 2))) as [number, number, number];
  return { mean, std };
}

/** Writes `(pixel / 255 - mean) / std` for `count` HWC pixels into `out` at `outOffset` (floats). */
export function normalizeInto(src: Uint8Array, srcOffset: number, count: number, mean: readonly number[], std: readonly number[], out: Float32Array, outOffset: number): void {
  const a0 = 1 / (255 * std[0]), a1 = 1 / (255 * std[1]), a2 = 1 / (255 * std[2]);
  const b0 = -mean[0] / std[0], b1 = -mean[1] / std[1], b2 = -mean[2] / std[2];
  for (let p = 0; p < count; p++) {
    const i = srcOffset + 3 * p, o = outOffset + 3 * p;
    out[o] = src[i] * a0 + b0;
    out[o + 1] = src[i + 1] * a1 + b1;
    out[o + 2] = src[i + 2] * a2 + b2;
  }
}
