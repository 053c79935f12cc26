import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { UserError } from '@lw/core';

/**
 * A pipeline file parsed into plain data, remembering where every value came from, so that each
 * later error (schema, planner) can name `file:line:column`.
 */
export type Path = (string | number)[];

export interface SourceFile {
  file: string;
  /** The text it was parsed from: what the plan was built on, even if the file changes later. */
  text: string;
  data: unknown;
  /** `file:line:col` of the value at `path` (or of its nearest existing parent). */
  at(path: Path): string;
  /** `file:line:col` of the key that holds `path` (for "unknown key" errors), else as `at`. */
  atKey(path: Path): string;
}

/** Parses YAML text; syntax errors (including duplicate keys) become a UserError with line:col. */
export function parseSource(file: string, text: string): SourceFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0] ?? lineCounter.linePos(first.pos[0]);
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    const message = first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new UserError(`${where}: YAML syntax error: ${message}`, syntaxHint(first.code));
  }
  // Nothing but blanks and comments: say so, rather than that `name` is missing.
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null && doc.contents.source === '')) {
    throw new UserError(`${file}: the file is empty`, 'a pipeline file needs at least `name:` and `stages:`; see "The pipeline file" in the README, or pipelines/sweep.yaml');
  }
  const data = doc.toJS({ maxAliasCount: 1000 }) ?? {};
  const at = (path: Path) => locate(doc, lineCounter, file, path);
  const atKey = (path: Path) => {
    const range = path.length ? keyRange(doc, path) : undefined;
    if (range === undefined) return at(path);
    const { line, col } = lineCounter.linePos(range);
    return `${file}:${line}:${col}`;
  };
  return { file, text, data, at, atKey };
}

export function readSource(file: string): SourceFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read pipeline file ${file}: ${(e as Error).message}`, 'pass the path of a .yaml pipeline file');
  }
  return parseSource(file, text);
}

function syntaxHint(code: string): string {
  if (code === 'DUPLICATE_KEY') return 'each stage, param and matrix variable may appear only once in its block; rename or merge the duplicate';
  return 'check indentation, colons and quotes; a value holding ": " or "#" needs quotes';
}

function locate(doc: Document, lines: LineCounter, file: string, path: Path): string {
  // Walk down as far as the path exists, so a missing key points at its parent block.
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    const range = nodeRange(node) ?? (n > 0 ? keyRange(doc, path.slice(0, n)) : undefined);
    if (range !== undefined) {
      const { line, col } = lines.linePos(range);
      return `${file}:${line}:${col}`;
    }
  }
  return `${file}:1:1`;
}

function nodeRange(node: unknown): number | undefined {
  if ((isScalar(node) || isMap(node) || isSeq(node)) && node.range) return node.range[0];
  return undefined;
}

/** For a key whose value is null/absent, the position of the key itself. */
function keyRange(doc: Document, path: Path): number | undefined {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]);
  return pair && isScalar(pair.key) && pair.key.range ? pair.key.range[0] : undefined;
}
