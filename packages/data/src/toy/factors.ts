import type { Rng } from '@lw/core';

/**
 * Latent factors of one toy object. Everything about an item (pixels, caption, 66-d embedding,
 * "human" similarity) is a function of these.
 */
export const SHAPES = ['circle', 'square', 'triangle', 'diamond', 'star', 'cross', 'ring', 'bar'] as const;
export const TEXTURES = ['plain', 'striped', 'dotted', 'checkered'] as const;

/** Hue centres (fraction of the colour circle) and their names, used for captions and colour dims. */
export const HUES: ReadonlyArray<{ name: string; hue: number }> = [
  { name: 'red', hue: 0 / 360 },
  { name: 'orange', hue: 30 / 360 },
  { name: 'yellow', hue: 58 / 360 },
  { name: 'green', hue: 120 / 360 },
  { name: 'cyan', hue: 180 / 360 },
  { name: 'blue', hue: 228 / 360 },
  { name: 'purple', hue: 275 / 360 },
  { name: 'pink', hue: 320 / 360 },
];

export interface ToyFactors {
  shape: number; // index into SHAPES
  hue: number; // [0, 1), around the colour circle
  saturation: number; // [0.35, 1]
  value: number; // brightness [0.55, 1]
  size: number; // object diameter as a fraction of the image side, [0.4, 0.85]
  texture: number; // index into TEXTURES
  x: number; // centre offset from the image centre, fraction of the side
  y: number;
  rotation: number; // radians, [0, pi)
}

export const SIZE_RANGE = [0.4, 0.85] as const;

/** How much an object's pose varies: the larger, the more a model must learn shapes invariantly. */
export interface Pose {
  /** Rotations are drawn from [0, maxRotation) radians (pi: every orientation). */
  maxRotation: number;
  /** Fraction of the free room around the object that its centre may move into (1: all of it). */
  jitter: number;
}
export const FULL_POSE: Pose = { maxRotation: Math.PI, jitter: 1 };

export function drawFactors(rng: Rng, shape = rng.int(SHAPES.length), pose: Pose = FULL_POSE): ToyFactors {
  const size = SIZE_RANGE[0] + (SIZE_RANGE[1] - SIZE_RANGE[0]) * rng.uniform();
  // keep most of the object inside the frame
  const room = pose.jitter * Math.max(0, (1 - size) / 2 - 0.03);
  return {
    shape,
    hue: rng.uniform(),
    saturation: 0.35 + 0.65 * rng.uniform(),
    value: 0.55 + 0.45 * rng.uniform(),
    size,
    texture: rng.int(TEXTURES.length),
    x: (2 * rng.uniform() - 1) * room,
    y: (2 * rng.uniform() - 1) * room,
    rotation: pose.maxRotation * rng.uniform(),
  };
}

/** Distance between two hues around the circle, in [0, 0.5]. */
export function hueDistance(a: number, b: number): number {
  const d = Math.abs(a - b) % 1;
  return Math.min(d, 1 - d);
}

export function colourName(hue: number): string {
  let best = HUES[0];
  for (const h of HUES) if (hueDistance(hue, h.hue) < hueDistance(hue, best.hue)) best = h;
  return best.name;
}

function sizeWord(size: number): string {
  return size < 0.55 ? 'small' : size > 0.7 ? 'large' : 'medium';
}

function positionWords(f: ToyFactors): string {
  const v = f.y < -0.06 ? 'top' : f.y > 0.06 ? 'bottom' : '';
  const h = f.x < -0.06 ? 'left' : f.x > 0.06 ? 'right' : '';
  if (!v && !h) return 'in the middle';
  return `at the ${[v, h].filter(Boolean).join(' ')}`;
}

/** e.g. "a large pale red striped circle at the top left". */
export function caption(f: ToyFactors): string {
  const tone = f.saturation < 0.55 ? 'pale ' : f.saturation > 0.85 ? 'vivid ' : '';
  const texture = f.texture === 0 ? '' : `${TEXTURES[f.texture]} `;
  return `a ${sizeWord(f.size)} ${tone}${colourName(f.hue)} ${texture}${SHAPES[f.shape]} ${positionWords(f)}`;
}
