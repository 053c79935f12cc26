import { describe, expect, it } from 'vitest';
import { ProgressLine, eta, formatDuration } from './progress.js';
import { UserError, formatError } from './errors.js';

describe('progress', () => {
  it('formats durations and ETAs', () => {
    expect(formatDuration(59_000)).toBe('59s');
    expect(formatDuration(61_000)).toBe('1m01s');
    expect(formatDuration(3_660_000)).toBe('1h01m');
    expect(eta(1, 4, 1000)).toBe(3000);
    expect(eta(0, 4, 1000)).toBeUndefined();
  });
  it('prints plain lines when not a terminal', () => {
    let t = 0;
    const out: string[] = [];
    const p = new ProgressLine({ label: 'convert', total: 4, stream: { write: (s: string) => out.push(s) }, now: () => t, plainIntervalMs: 1000 });
    t = 1000; p.tick();
    t = 1500; p.tick(); // throttled
    t = 4000; p.update(4);
    expect(out).toEqual(['convert 1/4 (25%) 1.0/s ETA 3s\n', 'convert 4/4 (100%) 1.0/s ETA 0s\n']);
  });
});

describe('UserError', () => {
  it('prints message and hint without a stack', () => {
    const text = formatError(new UserError('sweep.yaml:3:5: unknown stage "train/behaviour"', 'did you mean "train/behavior"?'));
    expect(text).toBe('error: sweep.yaml:3:5: unknown stage "train/behaviour"\n  hint: did you mean "train/behavior"?');
    expect(formatError(new Error('boom'))).toMatch(/^internal error: Error: boom\n\s+at /);
  });
});
