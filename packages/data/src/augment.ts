import type { Rng } from '@lw/core';
import type { Box } from './resample.js';

/**
 * ImageNet transforms, with torchvision's semantics and our counter-based RNG:
 * RandomResizedCrop(scale (0.08, 1), ratio (3/4, 4/3)) + RandomHorizontalFlip(0.5) for training,
 * Resize(256) + CenterCrop(224) (scaled to the output size) for evaluation.
 */

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torchvision `RandomResizedCrop.get_params`: up to 10 random tries, then a centre crop clamped to the ratio range. */
export function randomResizedCropBox(height: number, width: number, rng: Rng, scale: [number, number] = [0.08, 1], ratio: [number, number] = [3 / 4, 4 / 3]): Box {
  const area = height * width;
  const logLo = Math.log(ratio[0]), logHi = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * (scale[0] + (scale[1] - scale[0]) * rng.uniform());
    const aspect = Math.exp(logLo + (logHi - logLo) * rng.uniform());
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const y = rng.int(height - h + 1), x = rng.int(width - w + 1);
      return { x, y, width: w, height: h };
    }
  }
  const inRatio = width / height;
  let w: number, h: number;
  if (inRatio < ratio[0]) { w = width; h = roundHalfEven(w / ratio[0]); }
  else if (inRatio > ratio[1]) { h = height; w = roundHalfEven(h * ratio[1]); }
  else { w = width; h = height; }
  return { x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), width: w, height: h };
}

/**
 * Resize(short side = round(out * 256 / 224)) then CenterCrop(out), expressed as one crop box in
 * source pixels (resampling the box directly equals resize-then-crop up to the resampler's edge taps).
 */
export function centreCropBox(height: number, width: number, out: number): Box {
  const resized = Math.round((out * 256) / 224);
  // torchvision Resize(int): the long side is int(resized * long / short)
  const rh = height <= width ? resized : Math.trunc((resized * height) / width);
  const rw = height <= width ? Math.trunc((resized * width) / height) : resized;
  const top = roundHalfEven((rh - out) / 2), left = roundHalfEven((rw - out) / 2);
  const sx = width / rw, sy = height / rh;
  return { x: left * sx, y: top * sy, width: out * sx, height: out * sy };
}
