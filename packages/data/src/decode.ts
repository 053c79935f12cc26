import sharp from 'sharp';
import { roundHalfEven } from './augment.js';

/**
 * JPEG/PNG decoding and resizing with libvips (sharp). Pixels come out as uint8 RGB `[h, w, 3]`;
 * grey and CMYK inputs are converted to sRGB, alpha is dropped, EXIF orientation is ignored (as PIL does).
 * The triangle ("linear") kernel widened by the scale factor is PIL's antialiased BILINEAR.
 */

// Conversion runs one image per core at a time; one libvips thread per image scales better than
// several threads fighting over each image (measured in bench/data-prep: ~1.5x on 2 cores).
sharp.cache(false);
sharp.concurrency(1);

export interface Decoded { data: Uint8Array; height: number; width: number }

async function toRgb(pipeline: sharp.Sharp): Promise<Decoded> {
  const { data, info } = await pipeline.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded ${info.channels} channels, expected 3`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), height: info.height, width: info.width };
}

/** Anisotropic resize to exactly height x width, no crop (THINGS: PIL Resize((224, 224))). */
export function decodeResized(file: string | Buffer, height: number, width: number): Promise<Decoded> {
  return toRgb(sharp(file, { failOn: 'error' }).resize(width, height, { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: false }));
}

/** Resize so the short side is `shortSide`, aspect kept (long side int(short * long / short) as torchvision). */
export async function decodeShortSide(file: string | Buffer, shortSide: number): Promise<Decoded> {
  const meta = await sharp(file, { failOn: 'error' }).metadata();
  if (!meta.width || !meta.height) throw new Error('no image size in header');
  const { width: w, height: h } = meta;
  const [tw, th] = w <= h ? [shortSide, Math.trunc((shortSide * h) / w)] : [Math.trunc((shortSide * w) / h), shortSide];
  return decodeResized(file, th, tw);
}

/** Resize(short side) then centre crop (ImageNet val: 256 then 224). */
export async function decodeResizeCentreCrop(file: string | Buffer, shortSide: number, crop: number): Promise<Decoded> {
  const r = await decodeShortSide(file, shortSide);
  const top = roundHalfEven((r.height - crop) / 2), left = roundHalfEven((r.width - crop) / 2);
  const out = new Uint8Array(crop * crop * 3);
  for (let y = 0; y < crop; y++) out.set(r.data.subarray(((top + y) * r.width + left) * 3, ((top + y) * r.width + left + crop) * 3), y * crop * 3);
  return { data: out, height: crop, width: crop };
}
