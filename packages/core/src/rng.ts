import { createHash } from 'node:crypto';
import { canonicalJson } from './hash.js';

/**
 * Counter-based random numbers (Philox4x32-10, Salmon et al. 2011).
 *
 * Every stream is a pure function of (seed, path): `new Rng(42, 'perturb', start, batch)` yields the
 * same numbers whenever and wherever it is created, so a run resumed at any epoch draws exactly what
 * an uninterrupted run would have. Streams with different paths are independent: the path is hashed
 * into the Philox key and the upper counter words, and the lower 64 counter bits count blocks.
 */
export type RngPath = ReadonlyArray<string | number>;

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32, exactly, with 16-bit limbs. */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const lh = al * bh, hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 65536)) >>> 0;
}

/** One Philox4x32-10 block: 4 counter words and 2 key words in, 4 random words out (into `out`). */
export function philox4x32(ctr: ArrayLike<number>, key: ArrayLike<number>, out: Uint32Array): void {
  let c0 = ctr[0] >>> 0, c1 = ctr[1] >>> 0, c2 = ctr[2] >>> 0, c3 = ctr[3] >>> 0;
  let k0 = key[0] >>> 0, k1 = key[1] >>> 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, c0), lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2), lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/**
 * The Philox key and the upper two counter words of the stream (seed, path): what a parallel
 * implementation (the WGSL noise kernel in @lw/models) needs to compute block k of `new Rng(seed, ...path)`
 * directly, as philox4x32([k mod 2^32, floor(k / 2^32), counterHigh[0], counterHigh[1]], key).
 */
export function rngStream(seed: number, ...path: RngPath): { key: [number, number]; counterHigh: [number, number] } {
  if (!Number.isInteger(seed)) throw new RangeError(`Rng seed must be an integer, got ${seed}`);
  const digest = createHash('sha256').update(canonicalJson([seed, ...path])).digest();
  return { key: [digest.readUInt32LE(0), digest.readUInt32LE(4)], counterHigh: [digest.readUInt32LE(8), digest.readUInt32LE(12)] };
}

export class Rng {
  private readonly key = new Uint32Array(2);
  private readonly ctr = new Uint32Array(4);
  private readonly block = new Uint32Array(4);
  private used = 4;
  private spareNormal: number | null = null;

  constructor(readonly seed: number, ...path: RngPath) {
    const { key, counterHigh } = rngStream(seed, ...path);
    this.key.set(key);
    this.ctr[2] = counterHigh[0];
    this.ctr[3] = counterHigh[1];
    this.path = [...path];
  }

  readonly path: RngPath;

  /** A new independent stream keyed by this one's seed and path plus `more`. */
  fork(...more: RngPath): Rng {
    return new Rng(this.seed, ...this.path, ...more);
  }

  /** The next uniformly distributed uint32. */
  nextUint32(): number {
    if (this.used === 4) {
      philox4x32(this.ctr, this.key, this.block);
      // 64-bit block counter in ctr[0..1]
      this.ctr[0] = (this.ctr[0] + 1) >>> 0;
      if (this.ctr[0] === 0) this.ctr[1] = (this.ctr[1] + 1) >>> 0;
      this.used = 0;
    }
    return this.block[this.used++];
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5, b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform integer in [0, n). The bias of floor(u * n) with 53-bit u is below 2^-20 for n < 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`Rng.int needs a positive integer, got ${n}`);
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal by Box-Muller; pairs are used in order, so streams stay reproducible. */
  normal(): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return z;
    }
    let u1 = this.uniform();
    while (u1 === 0) u1 = this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spareNormal = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** n draws of N(mean, std^2) as float32. */
  normals(n: number, mean = 0, std = 1, out = new Float32Array(n)): Float32Array {
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** n draws of U[lo, hi) as float32. */
  uniforms(n: number, lo = 0, hi = 1, out = new Float32Array(n)): Float32Array {
    const span = hi - lo;
    for (let i = 0; i < n; i++) out[i] = lo + span * this.uniform();
    return out;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i]; p[i] = p[j]; p[j] = t;
    }
    return p;
  }
}
