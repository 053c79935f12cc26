import { describe, expect, it } from 'vitest';
import { Backoff } from './query.js';

describe('Backoff', () => {
  it('grows by half from the minimum up to the maximum, and starts over on reset', () => {
    const b = new Backoff(1000, 4000);
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([1000, 1500, 2250, 3375, 4000]);
    b.reset();
    expect(b.next()).toBe(1000);
  });
});
