import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesToUnicode, ClipTokenizer, WordTokenizer } from './index.js';

describe('bytesToUnicode', () => {
  it('is GPT-2\'s table: printable bytes map to themselves, the rest to 256+n in order', () => {
    const t = bytesToUnicode();
    expect(t).toHaveLength(256);
    expect(new Set(t).size).toBe(256);
    expect(t[0x21]).toBe('!');
    expect(t[0xe9]).toBe('é');
    expect(t[0]).toBe('Ā'); // U+0100
    expect(t[0x20]).toBe('Ġ'); // space = 33rd non-printable byte: U+0120
    expect(t[0xad]).toBe('Ń'); // after 0x00..0x20 (33) and 0x7f..0xa0 (34) non-printables: 256 + 67 = U+0143
  });
});

describe('ClipTokenizer on a hand-made vocabulary', () => {
  // Vocabulary and merges written by hand; expected ids worked out by hand below.
  const vocab: Record<string, number> = {
    h: 0, e: 1, l: 2, 'o</w>': 3, he: 4, ll: 5, hell: 6, 'hello</w>': 7, '!</w>': 8, i: 9, 't</w>': 10, "'s</w>": 11,
    'Ã': 12, '©</w>': 13, '<|startoftext|>': 14, '<|endoftext|>': 15, 'it</w>': 16, '1</w>': 17, '2</w>': 18,
  };
  const merges = ['#version: 0.2', 'h e', 'l l', 'he ll', 'hell o</w>', 'i t</w>', "' s</w>"].join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'lw-bpe-'));
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(join(dir, 'merges.txt'), merges);
  const tok = ClipTokenizer.fromPath(dir, 8);

  it('merges by rank: hello -> h e l l o</w> -> he l l o</w> -> he ll o</w> -> hell o</w> -> hello</w>', () => {
    expect(tok.encode('hello')).toEqual([7]);
  });
  it('lower-cases, collapses whitespace, splits punctuation, contractions and single digits', () => {
    expect(tok.encode('  HELLO \n\t Hello!')).toEqual([7, 7, 8]);
    expect(tok.encode("it's")).toEqual([16, 11]);
    expect(tok.encode('12')).toEqual([17, 18]);
  });
  it('maps UTF-8 bytes through the byte table: é = C3 A9 -> "Ã" "©</w>"', () => {
    expect(tok.encode('é')).toEqual([12, 13]);
  });
  it('wraps in start/end tokens and zero-pads to the context; too long is an error unless truncated', () => {
    expect(Array.from(tok.tokenize('hello!'))).toEqual([14, 7, 8, 15, 0, 0, 0, 0]);
    expect(() => tok.tokenize('hello hello hello hello hello hello hello')).toThrow(/more than the context length 8/);
    expect(Array.from(tok.tokenize('hello hello hello hello hello hello hello', true))).toEqual([14, 7, 7, 7, 7, 7, 7, 15]);
  });
  it('rejects a symbol missing from the vocabulary', () => {
    expect(() => tok.encode('hex')).toThrow(/BPE symbol "x<\/w>" of "hex" is not in the vocabulary/);
  });
  it('reads tokenizer.json the same way', () => {
    const d2 = mkdtempSync(join(tmpdir(), 'lw-bpe-'));
    writeFileSync(join(d2, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab, merges: merges.split('\n').slice(1) } }));
    expect(Array.from(ClipTokenizer.fromPath(d2, 8).tokenize('Hello!'))).toEqual([14, 7, 8, 15, 0, 0, 0, 0]);
  });
});

describe('WordTokenizer', () => {
  const tok = WordTokenizer.fromText('red\nwarm\nround\ncircular\n;\n', 8);
  it('numbers pad 0, start 1, unknown 2, words from 3, end last', () => {
    expect(tok.vocabSize).toBe(9);
    expect(tok.end).toBe(8);
    expect(Array.from(tok.encode('Red; warm'))).toEqual([1, 3, 7, 4, 8, 0, 0, 0]);
    expect(Array.from(tok.encode('round, blue'))).toEqual([1, 5, 2, 8, 0, 0, 0, 0]);
  });
  it('keeps the end token when cutting long text, so argmax finds it', () => {
    const row = tok.encode('red red red red red red red red red');
    expect(Array.from(row)).toEqual([1, 3, 3, 3, 3, 3, 3, 8]);
  });
});
