import { describe, expect, it } from 'vitest';
import { conditionName, expandMatrix, parseRange } from './matrix.js';

describe('matrix expansion', () => {
  it('crosses lists and inclusive ranges in the order written', () => {
    const c = expandMatrix({ type: ['a', 'b'], start: '3..5' });
    expect(c.map(conditionName)).toEqual(['type=a,start=3', 'type=a,start=4', 'type=a,start=5', 'type=b,start=3', 'type=b,start=4', 'type=b,start=5']);
  });
  it('applies partial excludes, then includes', () => {
    const c = expandMatrix({ type: ['a', 'b'], start: '1..2', exclude: [{ type: 'b' }], include: [{ type: 'c', start: 9 }] });
    expect(c.map(conditionName)).toEqual(['type=a,start=1', 'type=a,start=2', 'type=c,start=9']);
  });
  it('rejects bad and reversed ranges, duplicates and incomplete includes', () => {
    expect(() => parseRange('1..x', [])).toThrow('bad range');
    expect(() => parseRange('5..1', [])).toThrow('empty range');
    expect(parseRange('-1..1', [])).toEqual([-1, 0, 1]);
    expect(() => expandMatrix({ t: ['a', 'a'] })).toThrow('lists "a" twice');
    expect(() => expandMatrix({ t: ['a'], s: [1], include: [{ t: 'b' }] })).toThrow('lacks s');
    expect(() => expandMatrix({ t: ['a'], include: [{ t: 'a' }] })).toThrow('already in the matrix');
    expect(() => expandMatrix({ t: ['a'], exclude: [{ t: 'a' }] })).toThrow('no conditions left');
  });
});
