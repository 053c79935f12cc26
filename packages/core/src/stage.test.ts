import { describe, expect, it } from 'vitest';
import { listInput, singleInput, type TaskResult } from './stage.js';

const t = (key: string): TaskResult => ({ dir: `/c/${key}`, key, stage: 'train/behavior', params: {}, condition: {} });

describe('singleInput / listInput', () => {
  it('singleInput gives the one task, undefined for an absent optional input, and names stage and input otherwise', () => {
    const inputs = { data: t('a'), runs: [t('b'), t('c')] };
    expect(singleInput(inputs, 'data', 'eval/rsa')).toEqual(t('a'));
    expect(singleInput(inputs, 'resume', 'eval/rsa', true)).toBeUndefined();
    expect(() => singleInput(inputs, 'resume', 'eval/rsa')).toThrow('eval/rsa: input "resume" is missing');
    expect(() => singleInput(inputs, 'runs', 'eval/rsa')).toThrow('eval/rsa: input "runs" must be one task, got a list of 2');
  });

  it('listInput gives a list as it is, one task as a list of one, absent as empty', () => {
    const inputs = { data: t('a'), runs: [t('b'), t('c')] };
    expect(listInput(inputs, 'runs').map((r) => r.key)).toEqual(['b', 'c']);
    expect(listInput(inputs, 'data').map((r) => r.key)).toEqual(['a']);
    expect(listInput(inputs, 'vit')).toEqual([]);
  });
});
