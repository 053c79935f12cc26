/**
 * Antialiased bilinear resampling of a crop of a uint8 RGB image, as Pillow's `Image.resize(box=...)`
 * with BILINEAR does it (and torchvision's `antialias=True`): a separable triangle filter whose support
 * widens by the scale factor when shrinking, so downscaling averages instead of aliasing.
 * Output is float (0..255, not rounded) so normalisation follows without a second quantisation.
 */

interface Taps { start: Int32Array; count: Int32Array; weights: Float32Array; maxTaps: number }

/** Filter taps for mapping [in0, in0 + inLen) of an axis of length `inSize` onto `outSize` samples. */
function taps(in0: number, inLen: number, inSize: number, outSize: number): Taps {
  const scale = inLen / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // bilinear support 1, widened when shrinking
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize), count = new Int32Array(outSize), weights = new Float32Array(outSize * maxTaps);
  for (let o = 0; o < outSize; o++) {
    const centre = in0 + (o + 0.5) * scale;
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const hi = Math.min(Math.trunc(centre + support + 0.5), inSize);
    let sum = 0;
    const n = Math.min(hi - lo, maxTaps);
    for (let k = 0; k < n; k++) {
      const w = Math.max(0, 1 - Math.abs((lo + k - centre + 0.5) / filterScale));
      weights[o * maxTaps + k] = w;
      sum += w;
    }
    if (sum > 0) for (let k = 0; k < n; k++) weights[o * maxTaps + k] /= sum;
    start[o] = lo;
    count[o] = n;
  }
  return { start, count, weights, maxTaps };
}

export interface Box { x: number; y: number; width: number; height: number }

/**
 * Resamples `box` of `src` ([srcH, srcW, 3] uint8) to [outH, outW, 3] floats in `out` at `outOffset`;
 * `flip` mirrors the output horizontally.
 */
export function resampleCrop(
  src: Uint8Array, srcOffset: number, srcH: number, srcW: number, box: Box,
  outH: number, outW: number, out: Float32Array, outOffset: number, flip = false,
): void {
  const tx = taps(box.x, box.width, srcW, outW);
  const ty = taps(box.y, box.height, srcH, outH);
  // rows of the source the vertical filter touches
  const y0 = ty.start[0], y1 = ty.start[outH - 1] + ty.count[outH - 1];
  const tmp = new Float32Array((y1 - y0) * outW * 3); // [y1-y0, outW, 3]
  for (let y = y0; y < y1; y++) {
    const rowIn = srcOffset + y * srcW * 3, rowTmp = (y - y0) * outW * 3;
    for (let o = 0; o < outW; o++) {
      let r = 0, g = 0, b = 0;
      const s = tx.start[o], n = tx.count[o], wo = o * tx.maxTaps;
      for (let k = 0; k < n; k++) {
        const w = tx.weights[wo + k], i = rowIn + (s + k) * 3;
        r += w * src[i]; g += w * src[i + 1]; b += w * src[i + 2];
      }
      const t = rowTmp + o * 3;
      tmp[t] = r; tmp[t + 1] = g; tmp[t + 2] = b;
    }
  }
  for (let o = 0; o < outH; o++) {
    const s = ty.start[o] - y0, n = ty.count[o], wo = o * ty.maxTaps;
    const rowOut = outOffset + o * outW * 3;
    for (let x = 0; x < outW; x++) {
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < n; k++) {
        const w = ty.weights[wo + k], t = ((s + k) * outW + x) * 3;
        r += w * tmp[t]; g += w * tmp[t + 1]; b += w * tmp[t + 2];
      }
      const d = rowOut + (flip ? outW - 1 - x : x) * 3;
      out[d] = r; out[d + 1] = g; out[d + 2] = b;
    }
  }
}
