/**
 * Special functions for p-values, in float64: log-gamma, the regularised incomplete beta (Student t)
 * and the regularised upper incomplete gamma (normal tail). Continued fractions are evaluated with
 * the modified Lentz method (Numerical Recipes 3rd ed., §5.2, §6.2, §6.4), so tiny tail
 * probabilities (p ~ 1e-59 for the study's RSA) keep full relative precision instead of
 * underflowing to 1 - (1 - p).
 */

const LANCZOS_G = 607 / 128;
// Lanczos coefficients for g = 607/128, n = 15 (Godfrey; also used by Boost and NR3's gammln).
const LANCZOS = [
  0.99999999999999709182, 57.156235665862923517, -59.597960355475491248, 14.136097974741747174,
  -0.49191381609762019978, 0.33994649984811888699e-4, 0.46523628927048575665e-4,
  -0.98374475304879564677e-4, 0.15808870322491248884e-3, -0.21026444172410488319e-3,
  0.21743961811521264320e-3, -0.16431810653676389022e-3, 0.84418223983852743293e-4,
  -0.26190838401581408670e-4, 0.36899182659531622704e-5,
];

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma needs x > 0, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

const EPS = 1e-16;
const TINY = 1e-300;
const MAX_ITER = 10_000;

/** Continued fraction of I_x(a, b) (NR3 betacf), converging fast for x < (a + 1) / (a + b + 2). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b, qap = a + 1, qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAX_ITER; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d; if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c; if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d; if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c; if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) return h;
  }
  throw new Error(`incomplete beta continued fraction did not converge (a=${a}, b=${b}, x=${x})`);
}

/** The regularised incomplete beta I_x(a, b) = B(x; a, b) / B(a, b), for a, b > 0 and 0 <= x <= 1. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`incomplete beta needs a, b > 0, got a=${a}, b=${b}`);
  if (!(x >= 0 && x <= 1)) throw new RangeError(`incomplete beta needs 0 <= x <= 1, got ${x}`);
  if (x === 0 || x === 1) return x;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  // Use the side whose continued fraction converges; the other side is 1 - that.
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(a, b, x)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(b, a, 1 - x)) / b;
}

/**
 * Two-sided p-value of a correlation coefficient r over `nPairs` observations under the Student-t
 * approximation SciPy's spearmanr/pearsonr use: t = r·sqrt(df / (1 - r²)), df = nPairs - 2,
 * p = 2·P(T > |t|) = I_{df/(df+t²)}(df/2, 1/2), and df/(df+t²) = 1 - r² exactly.
 */
export function studentTPValue(r: number, nPairs: number): number {
  const df = nPairs - 2;
  if (!(df > 0)) return NaN;
  if (Number.isNaN(r)) return NaN;
  const r2 = Math.min(1, r * r);
  if (r2 === 1) return 0;
  return Math.min(1, regularizedIncompleteBeta(1 - r2, df / 2, 0.5));
}

/** Regularised upper incomplete gamma Q(a, x), by series (x < a + 1) or continued fraction. */
export function regularizedUpperGamma(a: number, x: number): number {
  if (!(a > 0)) throw new RangeError(`incomplete gamma needs a > 0, got ${a}`);
  if (!(x >= 0)) throw new RangeError(`incomplete gamma needs x >= 0, got ${x}`);
  if (x === 0) return 1;
  const logFront = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a, sum = term;
    for (let n = 1; n <= MAX_ITER; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPS) return 1 - sum * Math.exp(logFront);
    }
    throw new Error(`incomplete gamma series did not converge (a=${a}, x=${x})`);
  }
  let b = x + 1 - a, c = 1 / TINY, d = 1 / b, h = d;
  for (let i = 1; i <= MAX_ITER; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b; if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c; if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) return Math.exp(logFront) * h;
  }
  throw new Error(`incomplete gamma continued fraction did not converge (a=${a}, x=${x})`);
}

/** erfc(x) = Q(1/2, x²) for x >= 0, with full relative precision far into the tail. */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  return regularizedUpperGamma(0.5, x * x);
}

/** Two-sided p-value of a standard-normal z: P(|Z| >= |z|) = erfc(|z| / √2). */
export function normalTwoSidedPValue(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return erfc(Math.abs(z) / Math.SQRT2);
}
