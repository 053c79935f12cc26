import { HUES, SHAPES, SIZE_RANGE, TEXTURES, hueDistance, type ToyFactors } from './factors.js';

/**
 * The toy set's 66-d "behavioural" embedding: a fixed non-linear function of the latent factors,
 * SPoSE-like (non-negative, sparse, a few dominant dimensions per item). Each dimension has a
 * prompt naming what it responds to, like THINGS' 66 dimension labels. The function does not
 * depend on the data seed; only the items do.
 */

/** Perceptual attributes of each shape, shared by the embedding and (differently weighted) the human model. */
export const SHAPE_ATTRIBUTES: Record<(typeof SHAPES)[number], { round: number; pointed: number; elongated: number; hollow: number; angular: number }> = {
  circle: { round: 1, pointed: 0, elongated: 0, hollow: 0, angular: 0 },
  square: { round: 0, pointed: 0.1, elongated: 0, hollow: 0, angular: 1 },
  triangle: { round: 0, pointed: 0.8, elongated: 0.1, hollow: 0, angular: 0.8 },
  diamond: { round: 0, pointed: 0.7, elongated: 0.4, hollow: 0, angular: 0.8 },
  star: { round: 0.2, pointed: 1, elongated: 0, hollow: 0.2, angular: 0.3 },
  cross: { round: 0, pointed: 0.2, elongated: 0.5, hollow: 0.4, angular: 0.9 },
  ring: { round: 0.9, pointed: 0, elongated: 0, hollow: 1, angular: 0 },
  bar: { round: 0, pointed: 0.1, elongated: 1, hollow: 0, angular: 0.7 },
};

/** Derived quantities every dimension is built from. */
interface Features {
  shape: Record<(typeof SHAPES)[number], number>;
  attr: (typeof SHAPE_ATTRIBUTES)[keyof typeof SHAPE_ATTRIBUTES];
  colour: Record<string, number>; // tuning to each named hue, scaled by saturation
  warm: number; cool: number; sat: number; value: number;
  big: number; // size in [0, 1]
  texture: Record<(typeof TEXTURES)[number], number>;
  x: number; y: number; // [-1, 1]
  upright: number; // 1 when the object's main axis is vertical
}

function features(f: ToyFactors): Features {
  const shape = Object.fromEntries(SHAPES.map((s, i) => [s, i === f.shape ? 1 : 0])) as Features['shape'];
  const colour: Record<string, number> = {};
  for (const h of HUES) colour[h.name] = Math.exp(-0.5 * (hueDistance(f.hue, h.hue) / 0.055) ** 2) * f.saturation ** 1.5;
  const texture = Object.fromEntries(TEXTURES.map((t, i) => [t, i === f.texture ? 1 : 0])) as Features['texture'];
  const room = Math.max(1e-6, (1 - f.size) / 2 - 0.03);
  return {
    shape, attr: SHAPE_ATTRIBUTES[SHAPES[f.shape]], colour, texture,
    warm: Math.max(colour.red, colour.orange, colour.yellow, 0.6 * colour.pink),
    cool: Math.max(colour.cyan, colour.blue, 0.7 * colour.green, 0.6 * colour.purple),
    sat: f.saturation, value: f.value,
    big: (f.size - SIZE_RANGE[0]) / (SIZE_RANGE[1] - SIZE_RANGE[0]),
    x: f.x / room, y: f.y / room,
    upright: Math.abs(Math.cos(f.rotation)),
  };
}

const relu = (v: number) => Math.max(0, v);
const bump = (v: number, centre: number, width: number) => Math.exp(-0.5 * ((v - centre) / width) ** 2);

/**
 * [prompt, response]. Prompt words are lower-case and `;`-separated, as in THINGS' labels. Every
 * prompt whose concept the captions express names it in caption words (shape, colour, size, tone,
 * texture and position words): CLIP-HBA reads the 66 predictions off the cosine between the image
 * and the prompt's text feature, so the prompts must mean something to the text tower, as THINGS'
 * labels do to OpenAI's CLIP. With prompts in words the captions never use ("triangular", "round"),
 * the tiny CLIP's text features of them were untrained and fine-tuning learnt only the mean target.
 * Brightness, rotation and "plain" have no caption words, so their prompts stay uninformed.
 */
export const DIMENSIONS: ReadonlyArray<readonly [string, (q: Features) => number]> = [
  ['circle; round; circular', (q) => q.shape.circle + 0.5 * q.shape.ring],
  ['square; boxy', (q) => q.shape.square],
  ['triangle; triangular; three cornered', (q) => q.shape.triangle],
  ['diamond; rhombus', (q) => q.shape.diamond],
  ['star; spiky', (q) => q.shape.star],
  ['cross; plus sign', (q) => q.shape.cross],
  ['ring; hoop; hollow', (q) => q.shape.ring],
  ['bar; stick; long; thin', (q) => q.shape.bar],
  ['pointed; sharp; star triangle diamond', (q) => q.attr.pointed ** 2],
  ['angular; cornered; square triangle cross', (q) => 0.8 * q.attr.angular],
  ['elongated; stretched; bar', (q) => q.attr.elongated ** 1.5],
  ['compact; solid; circle square', (q) => 0.6 * (1 - q.attr.elongated) * (1 - q.attr.hollow) * (1 - q.attr.pointed)],
  ['curved; smooth; circle ring', (q) => 0.7 * q.attr.round],
  ['open; holes; ring', (q) => 0.7 * q.attr.hollow],
  ['red; warm', (q) => q.colour.red],
  ['orange', (q) => q.colour.orange],
  ['yellow; sunny', (q) => q.colour.yellow],
  ['green; leafy', (q) => q.colour.green],
  ['cyan; aqua', (q) => q.colour.cyan],
  ['blue; cool', (q) => q.colour.blue],
  ['purple; violet', (q) => q.colour.purple],
  ['pink; rosy', (q) => q.colour.pink],
  ['warm colour; red orange yellow', (q) => 0.6 * q.warm],
  ['cool colour; cyan blue green', (q) => 0.6 * q.cool],
  ['vivid; saturated', (q) => 0.5 * relu(q.sat - 0.6) / 0.4],
  ['pale; muted; greyish', (q) => 0.6 * relu(0.7 - q.sat) / 0.35],
  ['light; bright', (q) => 0.4 * relu(q.value - 0.75) / 0.25],
  ['dark; shaded', (q) => 0.5 * relu(0.8 - q.value) / 0.25],
  ['large; big', (q) => relu(q.big - 0.5) * 1.6],
  ['small; tiny', (q) => relu(0.5 - q.big) * 1.6],
  ['medium sized', (q) => 0.4 * bump(q.big, 0.5, 0.15)],
  ['plain; smooth surface', (q) => 0.3 * q.texture.plain],
  ['striped; lined', (q) => 0.8 * q.texture.striped],
  ['dotted; spotted', (q) => 0.8 * q.texture.dotted],
  ['checkered; grid', (q) => 0.8 * q.texture.checkered],
  ['patterned; busy; large striped dotted checkered', (q) => 0.4 * (1 - q.texture.plain) * q.big],
  ['left side', (q) => 0.25 * relu(-q.x)],
  ['right side', (q) => 0.25 * relu(q.x)],
  ['top; high', (q) => 0.25 * relu(-q.y)],
  ['bottom; low', (q) => 0.25 * relu(q.y)],
  ['centred; middle', (q) => 0.2 * bump(Math.hypot(q.x, q.y), 0, 0.4)],
  ['upright; vertical', (q) => 0.3 * q.attr.elongated * relu(q.upright - 0.7) / 0.3],
  ['tilted; diagonal', (q) => 0.3 * q.attr.elongated * bump(q.upright, 0.7, 0.15)],
  ['fruit like; red orange circle', (q) => q.attr.round * (1 - q.attr.hollow) * Math.max(q.colour.red, q.colour.orange)],
  ['leaf like; green diamond', (q) => q.colour.green * (q.shape.diamond + 0.5 * q.shape.triangle)],
  ['sun like; yellow star', (q) => q.colour.yellow * (q.shape.star + 0.6 * q.shape.circle)],
  ['water like; blue striped', (q) => q.cool * q.texture.striped],
  ['warning sign; red triangle', (q) => q.warm * q.attr.angular * (q.shape.triangle + q.shape.diamond + 0.3 * q.shape.square)],
  ['flag like; striped bar', (q) => q.texture.striped * (q.shape.bar + 0.5 * q.shape.square)],
  ['tile like; checkered square', (q) => q.texture.checkered * (q.shape.square + 0.4 * q.shape.diamond)],
  ['jewel like; purple diamond', (q) => Math.max(q.colour.purple, 0.6 * q.colour.blue) * (q.shape.diamond + 0.4 * q.shape.star)],
  ['flower like; pink star', (q) => Math.max(q.colour.pink, 0.5 * q.colour.yellow) * (q.shape.star + 0.5 * q.shape.cross)],
  ['wheel like; dark ring', (q) => q.shape.ring * relu(0.85 - q.value) / 0.3],
  ['candy like; striped pink', (q) => q.colour.pink * (1 - q.texture.plain)],
  ['lemon like; yellow circle', (q) => q.colour.yellow * q.attr.round * (1 - q.attr.hollow)],
  ['sky like; large cyan', (q) => Math.max(q.colour.cyan, 0.7 * q.colour.blue) * q.big],
  ['grass like; green striped', (q) => q.colour.green * q.texture.striped],
  ['brick like; orange checkered', (q) => Math.max(q.colour.orange, 0.6 * q.colour.red) * q.texture.checkered],
  ['gem like; small vivid diamond star', (q) => q.attr.pointed * relu(q.sat - 0.6) * relu(0.6 - q.big) * 4],
  ['target like; centred ring', (q) => q.shape.ring * bump(Math.hypot(q.x, q.y), 0, 0.5)],
  ['dice like; dotted square', (q) => q.texture.dotted * (q.shape.square + 0.3 * q.shape.diamond)],
  ['ladybug like; red dotted', (q) => q.colour.red * q.texture.dotted],
  ['snow like; pale circle', (q) => relu(0.6 - q.sat) * 2 * q.value * q.attr.round],
  ['fire like; orange star', (q) => Math.max(q.colour.orange, 0.7 * q.colour.red) * q.attr.pointed],
  ['ice like; pale cyan square', (q) => q.colour.cyan * relu(0.8 - q.sat) * 2.5 * q.attr.angular],
  ['plank like; dark bar', (q) => q.attr.elongated * relu(0.8 - q.value) / 0.25 * (1 - q.cool)],
];

/** Per-dimension gains, fixed, so column maxima differ as in SPoSE (a weighted, not a unit-scaled embedding). */
const GAINS = DIMENSIONS.map((_, k) => 0.55 + 0.45 * (0.5 + 0.5 * Math.cos(2.4 * k + 1)));

export const PROMPTS: string[] = DIMENSIONS.map(([p]) => p);

/** Raw (unrescaled) embedding of one item: [66]. */
export function rawEmbedding(f: ToyFactors): Float64Array {
  const q = features(f);
  return Float64Array.from(DIMENSIONS, ([, fn], k) => GAINS[k] * relu(fn(q)));
}

/** Rescales all items' embeddings globally to [0, 100], as SPoSE's published file is: [items, 66]. */
export function rescaleGlobally(raw: Float64Array[]): Float32Array {
  let lo = Infinity, hi = -Infinity;
  for (const r of raw) for (const v of r) { if (v < lo) lo = v; if (v > hi) hi = v; }
  const dim = raw[0].length;
  const out = new Float32Array(raw.length * dim);
  raw.forEach((r, i) => r.forEach((v, k) => { out[i * dim + k] = ((v - lo) / (hi - lo)) * 100; }));
  return out;
}
