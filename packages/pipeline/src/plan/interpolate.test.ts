import { describe, expect, it } from 'vitest';
import { evaluate, interpolateDeep, interpolateString } from './interpolate.js';

describe('interpolation', () => {
  const vars = { start: 5, type: 'image_noise', n: '12', flag: true };
  it('keeps the type of a whole-string expression', () => {
    expect(interpolateString('${start}', vars)).toBe(5);
    expect(interpolateString('${flag}', vars)).toBe(true);
    expect(interpolateString('${type}', vars)).toBe('image_noise');
  });
  it('does integer arithmetic with precedence and parentheses', () => {
    expect(evaluate('start - 1', vars)).toBe(4);
    expect(evaluate('2 + start * 3', vars)).toBe(17);
    expect(evaluate('(2 + start) * 3', vars)).toBe(21);
    expect(evaluate('n / 4 - -1', vars)).toBe(4);
    expect(evaluate('-(start)', vars)).toBe(-5);
  });
  it('embeds values in longer strings', () => {
    expect(interpolateString('run-${type}-${start + 1}.txt', vars)).toBe('run-image_noise-6.txt');
  });
  it('rejects inexact division, unknown variables, non-integers in arithmetic and junk', () => {
    expect(() => evaluate('start / 2', vars)).toThrow('5 / 2 is not an integer');
    expect(() => evaluate('strat - 1', vars)).toThrow('undefined variable "strat"');
    expect(() => evaluate('type + 1', vars)).toThrow('not an integer');
    expect(() => evaluate('start ^ 2', vars)).toThrow('unexpected "^ 2"');
    expect(() => evaluate('(start - 1', vars)).toThrow('missing ")"');
  });
  it('reports the path of a failing value inside params', () => {
    expect(() => interpolateDeep({ a: [1, { b: '${nope}' }] }, vars)).toThrow(expect.objectContaining({ path: ['a', 1, 'b'] }));
  });
});
