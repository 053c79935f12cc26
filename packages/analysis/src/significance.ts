import { studentTTwoSidedP } from './student-t.js';

/**
 * Whether an effect exceeds seed-to-seed variation. Every perturbed run is compared with the
 * baseline of its own seed, so the test is paired by seed: a one-sample t-test of the per-seed
 * differences d_i = run_i − baseline_i against 0 (t = mean / (s / √n), df = n − 1, two-sided),
 * which is the paired t-test of run against baseline. Many conditions are tested at once, so the
 * p-values are adjusted with Benjamini-Hochberg (false discovery rate), and an effect counts as
 * beyond seed noise when its q-value is below the level.
 */
export interface PairedTest {
  n: number;
  t: number;
  df: number;
  p: number;
}

/** Null for fewer than two differences: one seed has no spread to compare with. */
export function pairedTTest(differences: number[]): PairedTest | null {
  const n = differences.length;
  if (n < 2) return null;
  const mean = differences.reduce((a, b) => a + b, 0) / n;
  const variance = differences.reduce((a, d) => a + (d - mean) ** 2, 0) / (n - 1);
  const df = n - 1;
  // Identical differences: no spread, so any non-zero mean is beyond it (t = ±∞, p = 0) and a zero mean is no effect.
  if (variance === 0) return { n, df, t: mean === 0 ? 0 : Math.sign(mean) * Infinity, p: mean === 0 ? 1 : 0 };
  const t = mean / Math.sqrt(variance / n);
  return { n, df, t, p: studentTTwoSidedP(t, df) };
}

/**
 * Benjamini-Hochberg adjusted p-values (q-values), in the input order: q_(i) = min over j >= i of
 * p_(j) · m / j for the ascending p_(1..m), capped at 1 (as R's p.adjust(method = "BH")).
 */
export function benjaminiHochberg(ps: number[]): number[] {
  const m = ps.length;
  const order = ps.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p);
  const q = new Array<number>(m);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const { p, i } = order[rank - 1]!;
    running = Math.min(running, (p * m) / rank);
    q[i] = running;
  }
  return q;
}
