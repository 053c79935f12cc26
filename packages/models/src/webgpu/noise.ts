import { tf } from '../tf.js';
import type { WebGPUProgram } from './program.js';

/**
 * Normal noise on the GPU that equals @lw/core's `new Rng(seed, ...path).normals(n, mean, std)`.
 *
 * Rng.normals(n) (n even) draws Box-Muller pairs in order, and pair k consumes exactly the four words
 * of Philox block k: u1 from words 0-1, u2 from words 2-3, each `(w0 >>> 5) * 2^26 + (w1 >>> 6)` over
 * 2^53; element 2k = r cos(2π u2), element 2k + 1 = r sin(2π u2), r = sqrt(-2 ln u1). So one thread
 * per pair computes block k = philox4x32([k, 0, c2, c3], key) directly: the same integers, bit for bit,
 * as the host (checked by LW_PHILOX_WORDS). The transform runs in float32 with our own ln, sin and cos
 * (WGSL's builtins may be as coarse as 2^-11 absolute), reading the 53-bit uniforms from their integer
 * parts so that ln u1 near 1 and the angle keep float32's relative precision; the result differs from the
 * host's float64 formula by a few float32 ulps (parity.ts). One difference is by design: the host redraws
 * u1 when it is exactly 0 (probability 2^-53 per pair), which shifts the rest of its stream; here u1 = 0
 * is read as 2^-54.
 */
export const LW_NORMAL_NOISE = 'LwNormalNoise';
export const LW_PHILOX_WORDS = 'LwPhiloxWords';

const WORKGROUP = 128;

export interface NoiseAttrs {
  shape: number[];
  /** Philox key and the stream's upper counter words (`rngStream` in @lw/core), as uint32. */
  key: [number, number];
  counterHigh: [number, number];
  mean: number;
  std: number;
}

const PHILOX_WGSL = `
  // High 32 bits of a * b for uint32 a, b, with 16-bit limbs (WGSL has no 64-bit integers).
  fn mulhi32(a : u32, b : u32) -> u32 {
    let al = a & 0xffffu; let ah = a >> 16u; let bl = b & 0xffffu; let bh = b >> 16u;
    let lh = al * bh; let hl = ah * bl;
    let mid = ((al * bl) >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
    return ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
  }
  // Philox4x32-10 (Salmon et al. 2011), as philox4x32 in @lw/core.
  fn philox(ctr : vec4<u32>, key : vec2<u32>) -> vec4<u32> {
    var c = ctr; var k = key;
    for (var r = 0; r < 10; r++) {
      let hi0 = mulhi32(0xd2511f53u, c.x); let lo0 = 0xd2511f53u * c.x;
      let hi1 = mulhi32(0xcd9e8d57u, c.z); let lo1 = 0xcd9e8d57u * c.z;
      c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
      k = k + vec2<u32>(0x9e3779b9u, 0xbb67ae85u);
    }
    return c;
  }
  fn philoxBlock(k : u32) -> vec4<u32> {
    return philox(vec4<u32>(k, 0u, uniforms.c2, uniforms.c3), vec2<u32>(uniforms.k0, uniforms.k1));
  }
`;

const NORMAL_WGSL = `
  // 2 atanh(s) = ln((1 + s) / (1 - s)) for |s| <= 0.172: terms to s^11 leave < 1e-9 relative.
  fn atanh2(s : f32) -> f32 {
    let s2 = s * s;
    return 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 * (1.0 / 11.0))))));
  }
  // ln u1 for u1 = (a * 2^26 + b) / 2^53, a < 2^27, b < 2^26.
  fn lnUniform(a : u32, b : u32) -> f32 {
    if (a >= 0x6000000u) {
      // u1 >= 3/4: from d = 1 - u1, exact in integers, so ln u1 = ln(1 - d) keeps d's relative precision.
      let d = f32(0x7ffffffu - a) * 7.450580596923828e-9 + f32(0x4000000u - b) * 1.1102230246251565e-16;
      return atanh2(-d / (2.0 - d));
    }
    var u = f32(a) * 7.450580596923828e-9 + f32(b) * 1.1102230246251565e-16;
    if (u == 0.0) { u = 5.551115123125783e-17; } // a = b = 0: 2^-54 (the host redraws instead, see above)
    // u = m 2^e with m in [sqrt(1/2), sqrt(2)): ln u = 2 atanh((m - 1) / (m + 1)) + e ln 2, m - 1 exact.
    let fe = frexp(u);
    var m = fe.fract; var e = fe.exp;
    if (m < 0.70710678) { m = m * 2.0; e = e - 1; }
    return atanh2((m - 1.0) / (m + 1.0)) + f32(e) * 0.6931471805599453;
  }
  // sin and cos of t·π/2 for t in [0, 1/2] (angle <= π/4): Taylor terms to t^9 / t^10, < 1e-10 absolute.
  fn sinQ(t : f32) -> f32 {
    let x = t * 1.5707963267948966; let x2 = x * x;
    return x * (1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0))));
  }
  fn cosQ(t : f32) -> f32 {
    let x = t * 1.5707963267948966; let x2 = x * x;
    return 1.0 - x2 / 2.0 * (1.0 - x2 / 12.0 * (1.0 - x2 / 30.0 * (1.0 - x2 / 56.0 * (1.0 - x2 / 90.0))));
  }
  // (cos, sin) of 2π u2, u2 = (a * 2^26 + b) / 2^53: the quadrant is a's top 2 bits, the rest is
  // f = (aLow * 2^26 + b) / 2^51 in [0, 1); f > 1/2 is reflected as 1 - f, also exact in integers.
  fn cosSinUniform(a : u32, b : u32) -> vec2<f32> {
    let q = a >> 25u;
    let aLow = a & 0x1ffffffu;
    let reflect = aLow >= 0x1000000u;
    var g : f32;
    if (reflect) {
      g = f32(0x1ffffffu - aLow) * 2.9802322387695312e-8 + f32(0x4000000u - b) * 4.440892098500626e-16;
    } else {
      g = f32(aLow) * 2.9802322387695312e-8 + f32(b) * 4.440892098500626e-16;
    }
    let sg = sinQ(g); let cg = cosQ(g);
    // S, C = sin, cos of f·π/2
    let S = select(sg, cg, reflect);
    let C = select(cg, sg, reflect);
    switch (q) {
      case 0u: { return vec2<f32>(C, S); }
      case 1u: { return vec2<f32>(-S, C); }
      case 2u: { return vec2<f32>(-C, -S); }
      default: { return vec2<f32>(S, -C); }
    }
  }
`;

function noiseProgram(shape: number[]): WebGPUProgram {
  const size = shape.reduce((a, b) => a * b, 1);
  const pairs = Math.ceil(size / 2);
  return {
    outputShape: shape,
    shaderKey: 'lwNormalNoise',
    dispatchLayout: { x: shape.map((_, i) => i) },
    dispatch: [Math.ceil(pairs / WORKGROUP), 1, 1],
    variableNames: [],
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    uniforms: 'k0 : u32, k1 : u32, c2 : u32, c3 : u32, noiseMean : f32, noiseStd : f32,',
    // One thread per pair index p: elements 2p and 2p + 1 (an odd size's last pair writes one).
    getUserCode: () => `
      ${PHILOX_WGSL}
      ${NORMAL_WGSL}
      fn main(index : i32) {
        let i = 2 * index;
        if (i < uniforms.size) {
          let w = philoxBlock(u32(index));
          let r = sqrt(-2.0 * lnUniform(w.x >> 5u, w.y >> 6u));
          let cs = cosSinUniform(w.z >> 5u, w.w >> 6u);
          setOutputAtIndex(i, uniforms.noiseMean + uniforms.noiseStd * (r * cs.x));
          if (i + 1 < uniforms.size) { setOutputAtIndex(i + 1, uniforms.noiseMean + uniforms.noiseStd * (r * cs.y)); }
        }
      }`,
  };
}

/** [blocks, 4] int32: the raw Philox words of blocks 0..blocks-1, for the parity test of the integer part. */
function wordsProgram(blocks: number): WebGPUProgram {
  return {
    outputShape: [blocks, 4],
    shaderKey: 'lwPhiloxWords',
    dispatchLayout: { x: [0, 1] },
    dispatch: [Math.ceil(blocks / WORKGROUP), 1, 1],
    variableNames: [],
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    uniforms: 'k0 : u32, k1 : u32, c2 : u32, c3 : u32,',
    getUserCode: () => `
      ${PHILOX_WGSL}
      fn main(index : i32) {
        if (4 * index < uniforms.size) {
          let w = philoxBlock(u32(index));
          setOutputAtIndexI32(4 * index, bitcast<i32>(w.x));
          setOutputAtIndexI32(4 * index + 1, bitcast<i32>(w.y));
          setOutputAtIndexI32(4 * index + 2, bitcast<i32>(w.z));
          setOutputAtIndexI32(4 * index + 3, bitcast<i32>(w.w));
        }
      }`,
  };
}

type Uniform = { type: 'uint32' | 'float32'; data: number[] };
interface WebgpuBackend {
  runWebGPUProgram(p: WebGPUProgram, inputs: tf.TensorInfo[], dtype: 'float32' | 'int32', uniforms: Uniform[]): tf.TensorInfo;
}

const streamUniforms = (a: { key: [number, number]; counterHigh: [number, number] }): Uniform[] =>
  [a.key[0], a.key[1], a.counterHigh[0], a.counterHigh[1]].map((v) => ({ type: 'uint32' as const, data: [v >>> 0] }));

let registered = false;
export function registerWebgpuNoise(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: LW_NORMAL_NOISE,
    backendName: 'webgpu',
    kernelFunc: ({ backend, attrs }) => {
      const a = attrs as unknown as NoiseAttrs;
      const size = a.shape.reduce((x, y) => x * y, 1);
      // Pair indices are the low counter word: the host's counter would carry into word 1 past 2^32 blocks.
      if (size / 2 >= 2 ** 32) throw new Error(`${LW_NORMAL_NOISE}: ${size} values exceed 2^33`);
      return (backend as unknown as WebgpuBackend).runWebGPUProgram(noiseProgram(a.shape), [], 'float32',
        [...streamUniforms(a), { type: 'float32', data: [a.mean] }, { type: 'float32', data: [a.std] }]);
    },
  });
  tf.registerKernel({
    kernelName: LW_PHILOX_WORDS,
    backendName: 'webgpu',
    kernelFunc: ({ backend, attrs }) => {
      const a = attrs as unknown as { blocks: number; key: [number, number]; counterHigh: [number, number] };
      return (backend as unknown as WebgpuBackend).runWebGPUProgram(wordsProgram(a.blocks), [], 'int32', streamUniforms(a));
    },
  });
}
