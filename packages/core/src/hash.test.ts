import { describe, expect, it } from 'vitest';
import { canonicalJson, jsonKey, sha256 } from './hash.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
  });
  it('gives equal keys for equal meaning', () => {
    expect(jsonKey({ x: 1, y: 'a' })).toBe(jsonKey({ y: 'a', x: 1 }));
    expect(jsonKey({ x: 1 })).not.toBe(jsonKey({ x: 2 }));
  });
  it('rejects non-finite numbers', () => {
    expect(() => canonicalJson({ x: NaN })).toThrow(/non-finite/);
  });
  it('hashes like sha256sum', () => {
    // printf abc | sha256sum
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
