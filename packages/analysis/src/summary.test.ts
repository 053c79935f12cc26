import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { studentTCdf, studentTQuantile } from './student-t.js';
import { meanCI } from './summary.js';
import { toArrow, toCsv, type OutputTable } from './tables.js';

describe('Student t', () => {
  it('matches closed forms for df = 1 (Cauchy) and df = 2', () => {
    for (const p of [0.6, 0.9, 0.975, 0.995]) {
      expect(studentTQuantile(p, 1)).toBeCloseTo(Math.tan(Math.PI * (p - 0.5)), 8);
      expect(studentTQuantile(p, 2)).toBeCloseTo((2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 8);
    }
    expect(studentTCdf(1, 1)).toBeCloseTo(0.75, 12);
  });

  it('matches scipy.stats.t.ppf(0.975, df) for df 4, 10, 30', () => {
    expect(studentTQuantile(0.975, 4)).toBeCloseTo(2.7764451051977934, 9);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.228138851986274, 9);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.0422724563012378, 9);
  });
});

describe('meanCI', () => {
  it('gives mean ± t(0.975, n−1) · s/√n', () => {
    // [1, 2, 3]: mean 2, s = 1, half-width t(0.975, 2) / √3 with t(0.975, 2) = 4.302652729749462 (scipy).
    const ci = meanCI([1, 2, 3]);
    expect(ci.n).toBe(3);
    expect(ci.mean).toBe(2);
    expect(ci.ci_high! - 2).toBeCloseTo(4.302652729749462 / Math.sqrt(3), 9);
    expect(2 - ci.ci_low!).toBeCloseTo(4.302652729749462 / Math.sqrt(3), 9);
  });

  it('has no interval for one value', () => {
    expect(meanCI([5])).toEqual({ n: 1, mean: 5, ci_low: null, ci_high: null });
  });
});

describe('tables', () => {
  const table: OutputTable<{ start: number; epochs: number | null; run: string }> = {
    name: 'recovery',
    title: 't',
    rows: [
      { start: 1, epochs: 3, run: 'a' },
      { start: 2, epochs: null, run: 'b,"c"' },
    ],
    columns: [
      { name: 'start', type: 'int', value: (r) => r.start },
      { name: 'recovery_epochs', type: 'int', value: (r) => r.epochs, nullText: 'NR' },
      { name: 'run', type: 'utf8', value: (r) => r.run },
    ],
  };

  it('writes NR for null in the CSV and quotes where needed', () => {
    expect(toCsv(table)).toBe('start,recovery_epochs,run\n1,3,a\n2,NR,"b,""c"""\n');
  });

  it('keeps a real null in Arrow', () => {
    const back = tableFromIPC(toArrow(table));
    expect(back.getChild('recovery_epochs')!.toArray().length).toBe(2);
    expect(back.getChild('recovery_epochs')!.get(0)).toBe(3);
    expect(back.getChild('recovery_epochs')!.get(1)).toBeNull();
    expect(back.getChild('run')!.get(1)).toBe('b,"c"');
  });
});
