import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellCommand, shellQuote } from './quote.js';

// The reference is a real POSIX shell: what /bin/sh hands to printf must be the value unchanged.
function throughShell(words: string[]): string[] {
  const out = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${shellCommand(words)}`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

const hostile = [
  'plain',
  '',
  'with space',
  "it's",
  "''",
  '"double" quotes',
  '$(touch pwned)',
  '`touch pwned`',
  '${HOME} $HOME $$ $0',
  'line one\nline two',
  'back\\slash\\',
  'semi; rm -rf /tmp/nothing; echo',
  'glob * ? [a-z]',
  "mixed 'single' \"double\" `tick` $(sub) \\ \n end",
  '-n',
  '~user',
  'tab\there',
  'unicode ✓ ü',
];

describe('shellQuote', () => {
  it.each(hostile.map((v) => [JSON.stringify(v), v]))('survives /bin/sh unchanged: %s', (_, value) => {
    expect(throughShell([value])).toEqual([value]);
  });

  it('keeps every word of a command line separate', () => {
    expect(throughShell(hostile)).toEqual(hostile);
  });

  it('writes the quote as close-escape-reopen', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('a b')).toBe(`'a b'`);
  });

  it('refuses a NUL byte with a user error', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});
