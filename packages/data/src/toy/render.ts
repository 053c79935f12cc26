import { SHAPES, TEXTURES, type ToyFactors } from './factors.js';

/** Is the point (u, v), in object coordinates (unit = object radius, rotated), inside the shape? */
function insideShape(shape: (typeof SHAPES)[number], u: number, v: number): boolean {
  const au = Math.abs(u), av = Math.abs(v);
  switch (shape) {
    case 'circle': return u * u + v * v <= 1;
    case 'square': return au <= 0.8 && av <= 0.8;
    case 'triangle': {
      // equilateral, vertices at radius 1; inside all three edge half-planes
      const s3 = Math.sqrt(3) / 2;
      return v >= -0.5 && s3 * u - 0.5 * v >= -0.5 && -s3 * u - 0.5 * v >= -0.5;
    }
    case 'diamond': return au / 0.7 + av <= 1;
    case 'star': {
      const r = Math.hypot(u, v), t = Math.atan2(v, u);
      return r <= 0.4 + 0.6 * Math.pow(0.5 + 0.5 * Math.cos(5 * t), 3);
    }
    case 'cross': return (au <= 0.3 && av <= 1) || (av <= 0.3 && au <= 1);
    case 'ring': { const r2 = u * u + v * v; return r2 <= 1 && r2 >= 0.36; }
    case 'bar': return au <= 1 && av <= 0.3;
  }
}

/** 1 where the texture darkens the surface, 0 elsewhere; patterns live in object coordinates. */
function texturePattern(texture: (typeof TEXTURES)[number], u: number, v: number): number {
  switch (texture) {
    case 'plain': return 0;
    case 'striped': return Math.sin(u * Math.PI * 2.5) > 0 ? 1 : 0;
    case 'dotted': {
      const fu = u * 2 - Math.round(u * 2), fv = v * 2 - Math.round(v * 2);
      return fu * fu + fv * fv < 0.09 ? 1 : 0;
    }
    case 'checkered': return (Math.floor(u * 2.2 + 10) + Math.floor(v * 2.2 + 10)) % 2;
  }
}

export function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const k = (n: number) => (n + h * 6) % 6;
  const f = (n: number) => v - v * s * Math.max(0, Math.min(k(n), 4 - k(n), 1));
  return [f(5), f(3), f(1)];
}

const BACKGROUND = [0.46, 0.46, 0.46];
const SUPERSAMPLE = 3;

/** Renders one object, antialiased by 3x3 supersampling, as uint8 RGB `[size, size, 3]`. */
export function renderObject(f: ToyFactors, size: number, out = new Uint8Array(size * size * 3)): Uint8Array {
  const shape = SHAPES[f.shape], texture = TEXTURES[f.texture];
  const [r, g, b] = hsvToRgb(f.hue, f.saturation, f.value);
  const radius = (f.size / 2) * size;
  const cx = (0.5 + f.x) * size, cy = (0.5 + f.y) * size;
  const cos = Math.cos(f.rotation), sin = Math.sin(f.rotation);
  const n = SUPERSAMPLE * SUPERSAMPLE;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let cover = 0, dark = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const dx = (px + (sx + 0.5) / SUPERSAMPLE - cx) / radius;
          const dy = (py + (sy + 0.5) / SUPERSAMPLE - cy) / radius;
          // image y grows downwards; rotate into object coordinates
          const u = cos * dx + sin * dy, v = -sin * dx + cos * dy;
          if (insideShape(shape, u, -v)) { cover++; dark += texturePattern(texture, u, v); }
        }
      }
      const a = cover / n, shade = cover ? 1 - 0.55 * (dark / cover) : 1;
      const o = (py * size + px) * 3;
      out[o] = Math.round(255 * (BACKGROUND[0] * (1 - a) + r * shade * a));
      out[o + 1] = Math.round(255 * (BACKGROUND[1] * (1 - a) + g * shade * a));
      out[o + 2] = Math.round(255 * (BACKGROUND[2] * (1 - a) + b * shade * a));
    }
  }
  return out;
}
