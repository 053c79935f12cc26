import { regularizedIncompleteBeta } from '@lw/eval';

/**
 * Student's t quantiles for confidence intervals: the CDF from @lw/eval's regularized incomplete
 * beta (the one behind the RSA p-values), inverted by bisection. Accurate to ~1e-10, far below what
 * a 95% CI of a few seeds needs.
 */

/** P(T <= t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Two-sided P(|T| >= |t|) = I_{df/(df+t²)}(df/2, 1/2); 0 for an infinite t. */
export function studentTTwoSidedP(t: number, df: number): number {
  if (!(df > 0) || Number.isNaN(t)) throw new RangeError(`studentTTwoSidedP: t=${t}, df=${df}`);
  if (!Number.isFinite(t)) return 0;
  return Math.min(1, regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5));
}

/** The t with P(T <= t) = p. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) throw new RangeError(`studentTQuantile: p=${p}, df=${df}`);
  let lo = -1e6;
  let hi = 1e6;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, Math.abs(hi)); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
