import { describe, expect, it } from 'vitest';
import { canonicalJson, jsonKey } from '@lw/core';
import { taskKey, type KeyInputs } from './key.js';

describe('task keys', () => {
  it('serialise by @lw/core canonicalJson, whose text for these edge cases is fixed (as the generic version wrote it)', () => {
    const values: unknown[] = [
      null, 0, -0, 1.5, 1e21, -3, 'a"b\\c\u2028\n', '', true, false, 12n, [], {}, [undefined, null, [[]]],
      { b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } },
      { '10': 1, '9': 2, '': 3, é: 4, Z: 5, a: 6, 'a b': 7, '\u{1F600}': 8, '\uFFFF': 9 },
      Object.assign(Object.create(null), { x: 1 }),
      JSON.parse('{"__proto__": {"y": 1}}'),
    ];
    const expected = ["null","0","0","1.5","1e+21","-3","\"a\\\"b\\\\c \\n\"","\"\"","true","false","\"12\"","[]","{}","[null,null,[[]]]","{\"a\":{\"d\":[1,{\"y\":2,\"z\":1}]},\"b\":1}","{\"\":3,\"10\":1,\"9\":2,\"Z\":5,\"a\":6,\"a b\":7,\"é\":4,\"😀\":8,\"￿\":9}","{\"x\":1}","{\"__proto__\":{\"y\":1}}"];
    expect(values.map((v) => canonicalJson(v))).toEqual(expected);
    for (const bad of [NaN, Infinity, { x: -Infinity }]) expect(() => canonicalJson(bad)).toThrow(/non-finite/);
    expect(() => canonicalJson(() => 1)).toThrow(/cannot serialise/);
  });
  it('equal jsonKey of the key inputs', () => {
    const inputs: KeyInputs = { version: 1, stage: 'exec', code: 'c0de', params: { cmd: 'echo 1', env: { B: '2', A: '1' }, outs: ['o'] }, inputs: { up: 'k1', many: ['k2', { key: 'k3', epoch: 4 }] }, files: {} };
    expect(taskKey(inputs)).toBe(jsonKey(inputs));
  });
});
