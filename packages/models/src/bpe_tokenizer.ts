import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UserError } from '@lw/core';

/**
 * CLIP's byte-level BPE tokenizer (OpenAI `simple_tokenizer.py`, same as HF `CLIPTokenizer`):
 * clean (HTML entities, whitespace) and lower-case; split with CLIP's regex; map each piece's UTF-8
 * bytes to printable characters (GPT-2's byte->unicode table); apply BPE merges by rank, the last
 * symbol of a word carrying `</w>`; look up ids; wrap in <|startoftext|> ... <|endoftext|>; zero-pad
 * to the context length (77). Not done: ftfy's mojibake repair (inputs here are plain prompts).
 */

/** GPT-2's reversible byte -> printable unicode character table (256 entries). */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b); // '!'..'~'
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b); // '¡'..'¬'
  for (let b = 0xae; b <= 0xff; b++) printable.push(b); // '®'..'ÿ'
  const table = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) table[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  return table;
}

const PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;
const SOT = '<|startoftext|>';
const EOT = '<|endoftext|>';

function unescapeHtml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|nbsp);/gi, (m, e: string) => {
    const k = e.toLowerCase();
    if (k.startsWith('#x')) return String.fromCodePoint(parseInt(k.slice(2), 16));
    if (k.startsWith('#')) return String.fromCodePoint(parseInt(k.slice(1), 10));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' } as Record<string, string>)[k] ?? m;
  });
}

export class ClipTokenizer {
  private readonly byteMap = bytesToUnicode();
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, string[]>();
  readonly sot: number;
  readonly eot: number;

  /** `vocab`: token -> id; `merges`: pairs in priority order. */
  constructor(private readonly vocab: Map<string, number>, merges: [string, string][], readonly contextLength = 77) {
    merges.forEach(([a, b], i) => this.ranks.set(`${a} ${b}`, i));
    const sot = vocab.get(SOT), eot = vocab.get(EOT);
    if (sot === undefined || eot === undefined) throw new UserError(`CLIP vocabulary lacks ${SOT} or ${EOT}`, 'use the tokenizer files of a CLIP checkpoint');
    this.sot = sot;
    this.eot = eot;
  }

  get vocabSize(): number {
    return this.vocab.size;
  }

  /**
   * From a Hugging Face CLIP checkpoint directory (`vocab.json` + `merges.txt`, else `tokenizer.json`)
   * or OpenAI's `bpe_simple_vocab_16e6.txt[.gz]` merges file.
   */
  static fromPath(path: string, contextLength = 77): ClipTokenizer {
    if (/bpe_simple_vocab.*\.txt(\.gz)?$/.test(path)) return ClipTokenizer.fromOpenAiMerges(path, contextLength);
    const vocabJson = join(path, 'vocab.json'), mergesTxt = join(path, 'merges.txt'), tokJson = join(path, 'tokenizer.json');
    if (existsSync(vocabJson) && existsSync(mergesTxt)) {
      const vocab = new Map(Object.entries(JSON.parse(readFileSync(vocabJson, 'utf8')) as Record<string, number>));
      return new ClipTokenizer(vocab, parseMerges(readFileSync(mergesTxt, 'utf8'), mergesTxt), contextLength);
    }
    if (existsSync(tokJson)) {
      const model = (JSON.parse(readFileSync(tokJson, 'utf8')) as { model?: { vocab?: Record<string, number>; merges?: (string | [string, string])[] } }).model;
      if (!model?.vocab || !model.merges) throw new UserError(`${tokJson} has no model.vocab / model.merges`, 'expected a BPE tokenizer.json');
      const merges = model.merges.map((m) => (typeof m === 'string' ? (m.split(' ') as [string, string]) : m));
      return new ClipTokenizer(new Map(Object.entries(model.vocab)), merges, contextLength);
    }
    throw new UserError(`no CLIP tokenizer files in ${path}`, 'expected vocab.json + merges.txt or tokenizer.json (Hugging Face), or bpe_simple_vocab_16e6.txt.gz (OpenAI)');
  }

  /** OpenAI's file: the vocabulary is built from the byte table and the first 48,894 merges. */
  static fromOpenAiMerges(path: string, contextLength = 77): ClipTokenizer {
    const raw = readFileSync(path);
    const text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    const merges = parseMerges(text, path).slice(0, 49152 - 256 - 2);
    const chars = bytesToUnicode();
    const tokens = [...chars, ...chars.map((c) => `${c}</w>`), ...merges.map(([a, b]) => a + b), SOT, EOT];
    return new ClipTokenizer(new Map(tokens.map((t, i) => [t, i])), merges, contextLength);
  }

  /** BPE symbols of one pre-token (already byte-mapped). */
  private bpe(token: string): string[] {
    const hit = this.cache.get(token);
    if (hit) return hit;
    const chars = [...token];
    let word = [...chars.slice(0, -1), `${chars[chars.length - 1]}</w>`];
    while (word.length > 1) {
      let best = -1, bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) { bestRank = r; best = i; }
      }
      if (best < 0) break;
      // Merge every occurrence of the best pair, left to right (as the reference does).
      const [a, b] = [word[best], word[best + 1]];
      const next: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i < word.length - 1 && word[i] === a && word[i + 1] === b) { next.push(a + b); i++; } else next.push(word[i]);
      }
      word = next;
    }
    this.cache.set(token, word);
    return word;
  }

  /** Token ids of `text` without start/end. */
  encode(text: string): number[] {
    const clean = unescapeHtml(unescapeHtml(text)).trim().replace(/\s+/g, ' ').trim().toLowerCase();
    const ids: number[] = [];
    for (const piece of clean.match(PATTERN) ?? []) {
      const mapped = Array.from(Buffer.from(piece, 'utf8'), (b) => this.byteMap[b]).join('');
      for (const sym of this.bpe(mapped)) {
        const id = this.vocab.get(sym);
        if (id === undefined) throw new UserError(`BPE symbol "${sym}" of "${text}" is not in the vocabulary`, 'the vocabulary and merges files do not belong together');
        ids.push(id);
      }
    }
    return ids;
  }

  /**
   * One row [ctx]: SOT, ids, EOT, zeros. Too long a text is an error unless `truncate`, which keeps the
   * first ctx-1 tokens and ends with EOT (OpenAI's `tokenize(truncate=True)`).
   */
  tokenize(text: string, truncate = false): Int32Array {
    const ctx = this.contextLength;
    let ids = [this.sot, ...this.encode(text), this.eot];
    if (ids.length > ctx) {
      if (!truncate) throw new UserError(`"${text}" has ${ids.length} tokens, more than the context length ${ctx}`, 'shorten it or tokenize with truncate');
      ids = [...ids.slice(0, ctx - 1), this.eot];
    }
    const row = new Int32Array(ctx);
    row.set(ids);
    return row;
  }

  /** Texts -> [N, ctx] row-major (e.g. the 66 prompts for CLIP-HBA). */
  encodeBatch(texts: string[], truncate = false): Int32Array {
    const out = new Int32Array(texts.length * this.contextLength);
    texts.forEach((t, i) => out.set(this.tokenize(t, truncate), i * this.contextLength));
    return out;
  }
}

function parseMerges(text: string, source: string): [string, string][] {
  const lines = text.split(/\r?\n/);
  const body = lines[0]?.startsWith('#version') ? lines.slice(1) : lines;
  const merges: [string, string][] = [];
  body.forEach((line, i) => {
    if (!line.trim()) return;
    const parts = line.split(' ');
    if (parts.length !== 2) throw new UserError(`${source} line ${i + 2}: "${line}" is not a merge pair`, 'each line holds two symbols separated by one space');
    merges.push(parts as [string, string]);
  });
  return merges;
}
