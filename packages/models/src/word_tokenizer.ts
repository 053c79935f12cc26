import { UserError } from '@lw/core';

/**
 * Word-level tokenizer for the tiny text tower of the embedded default (`vocab.txt`, one word a line).
 * Ids: 0 = padding, 1 = start, 2 = unknown word, 3.. = the vocabulary in file order, and the end token
 * last (= vocabSize - 1), so that, as in CLIP, the EOT position is the argmax of a row.
 * Text is lower-cased and split into words (letters/digits, inner hyphens and apostrophes kept) and
 * single punctuation marks; punctuation not in the vocabulary is dropped, unknown words become 2.
 */
export class WordTokenizer {
  static readonly PAD = 0;
  static readonly START = 1;
  static readonly UNKNOWN = 2;
  private readonly ids = new Map<string, number>();
  readonly end: number;
  readonly vocabSize: number;

  constructor(vocab: string[], readonly contextLength: number) {
    const words = vocab.map((w) => w.trim().toLowerCase()).filter((w) => w.length > 0);
    for (const w of words) if (!this.ids.has(w)) this.ids.set(w, 3 + this.ids.size);
    this.end = 3 + this.ids.size;
    this.vocabSize = this.end + 1;
  }

  /** From the text of a vocab.txt file (`source` names it in errors). */
  static fromText(text: string, contextLength: number, source = 'vocab.txt'): WordTokenizer {
    const t = new WordTokenizer(text.split(/\r?\n/), contextLength);
    if (t.vocabSize === 4) throw new UserError(`${source} has no words`, 'one word per line');
    return t;
  }

  /** Ids of the words of `text`, without start/end. */
  words(text: string): number[] {
    const out: number[] = [];
    for (const piece of text.toLowerCase().match(/[\p{L}\p{N}]+(?:['-][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]/gu) ?? []) {
      const id = this.ids.get(piece);
      if (id !== undefined) out.push(id);
      else if (/[\p{L}\p{N}]/u.test(piece)) out.push(WordTokenizer.UNKNOWN);
    }
    return out;
  }

  /** [start, words..., end, 0...] of length contextLength; too-long text is cut, keeping the end token. */
  encode(text: string): Int32Array {
    const ctx = this.contextLength;
    const body = this.words(text).slice(0, ctx - 2);
    const row = new Int32Array(ctx);
    row[0] = WordTokenizer.START;
    row.set(body, 1);
    row[body.length + 1] = this.end;
    return row;
  }

  /** Texts -> [N, contextLength] row-major. */
  encodeBatch(texts: string[]): Int32Array {
    const out = new Int32Array(texts.length * this.contextLength);
    texts.forEach((t, i) => out.set(this.encode(t), i * this.contextLength));
    return out;
  }
}
