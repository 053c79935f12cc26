import { describe, expect, it } from 'vitest';
import { resampleCrop } from './resample.js';

// A 17x13 test pattern; the reference outputs below were produced once by Pillow 9.4 (Debian python3-pil):
//   im.putpixel((x, y), ((x*29 + y*7) % 256, (x*3 + y*31) % 256, (x*y*5) % 256))
//   list(im.resize((5, 4), Image.BILINEAR, box=(2.0, 1.0, 15.0, 12.0)).tobytes())   and so on.
// Pillow rounds to uint8 after each of its two passes, so agreement is within 1 grey level.
const W = 17, H = 13;
const src = new Uint8Array(W * H * 3);
for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) src.set([(x * 29 + y * 7) % 256, (x * 3 + y * 31) % 256, (x * y * 5) % 256], (y * W + x) * 3);

const PIL_DOWN_BOX = [95, 67, 27, 169, 75, 51, 157, 83, 76, 65, 91, 100, 139, 99, 110, 115, 152, 66, 189, 160, 125, 105, 168, 163, 85, 176, 141, 159, 175, 111, 133, 148, 104, 190, 129, 167, 81, 137, 115, 103, 142, 128, 177, 93, 125, 153, 73, 137, 179, 73, 130, 66, 81, 135, 123, 89, 137, 186, 97, 116];
const PIL_UP_FIRST_ROW = [0, 0, 0, 18, 2, 0, 39, 4, 0, 61, 6, 0, 82, 8, 0, 103, 11, 0, 125, 13, 0, 146, 15, 0, 168, 17, 0, 189, 20, 0, 211, 22, 0, 232, 24, 0, 64, 26, 0, 19, 28, 0, 40, 31, 0, 62, 33, 0, 83, 35, 0, 105, 37, 0, 126, 40, 0, 147, 42, 0, 169, 44, 0, 190, 46, 0, 208, 48, 0];
const PIL_FRACTIONAL_BOX = [46, 54, 10, 111, 60, 27, 175, 67, 46, 169, 74, 64, 55, 81, 83, 119, 88, 101, 184, 94, 119, 57, 102, 19, 122, 108, 55, 186, 115, 89, 146, 122, 126, 66, 129, 163, 130, 136, 155, 195, 142, 153, 69, 156, 30, 134, 162, 84, 198, 169, 139, 84, 176, 183, 78, 183, 150, 142, 190, 86, 207, 196, 106, 81, 204, 40, 146, 200, 112, 207, 204, 181, 92, 211, 133, 90, 218, 88, 154, 165, 144, 190, 118, 137, 92, 171, 50, 157, 74, 140, 181, 58, 161, 57, 65, 88, 101, 72, 155, 165, 55, 118, 173, 39, 103, 104, 53, 60, 169, 59, 164, 184, 66, 117, 58, 73, 136, 113, 80, 155, 177, 87, 111, 168, 93, 148, 114, 100, 69, 179, 106, 163, 152, 113, 100, 63, 120, 160, 123, 127, 111, 187, 134, 121, 98, 140, 98];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('resampleCrop matches Pillow BILINEAR (antialiased)', () => {
  it('shrinks a crop box', () => {
    const out = new Float32Array(5 * 4 * 3);
    resampleCrop(src, 0, H, W, { x: 2, y: 1, width: 13, height: 11 }, 4, 5, out, 0);
    expect(maxAbsDiff(out, PIL_DOWN_BOX)).toBeLessThanOrEqual(1);
  });

  it('enlarges the whole image', () => {
    const out = new Float32Array(23 * 19 * 3);
    resampleCrop(src, 0, H, W, { x: 0, y: 0, width: W, height: H }, 19, 23, out, 0);
    expect(maxAbsDiff(out, PIL_UP_FIRST_ROW)).toBeLessThanOrEqual(1);
  });

  it('takes fractional boxes', () => {
    const out = new Float32Array(7 * 7 * 3);
    resampleCrop(src, 0, H, W, { x: 0.5, y: 1.25, width: 16, height: 11.5 }, 7, 7, out, 0);
    expect(maxAbsDiff(out, PIL_FRACTIONAL_BOX)).toBeLessThanOrEqual(1);
  });

  it('mirrors when asked', () => {
    const a = new Float32Array(5 * 4 * 3), b = new Float32Array(5 * 4 * 3);
    resampleCrop(src, 0, H, W, { x: 2, y: 1, width: 13, height: 11 }, 4, 5, a, 0);
    resampleCrop(src, 0, H, W, { x: 2, y: 1, width: 13, height: 11 }, 4, 5, b, 0, true);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 5; x++) for (let c = 0; c < 3; c++) expect(b[(y * 5 + 4 - x) * 3 + c]).toBe(a[(y * 5 + x) * 3 + c]);
  });
});
