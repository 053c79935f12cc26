/**
 * Reference syntax inside `inputs`: `stage` (a stage's result, or all of a matrix stage's results)
 * or `stage@epoch(EXPR)` (one checkpoint of a training task; EXPR is integer arithmetic over the
 * condition's variables, e.g. `${start} - 1` or `start - 1`).
 */
export interface Reference {
  stage: string;
  /** The epoch expression as written, without `${}` (undefined for a plain reference). */
  epochExpr?: string;
}

const plain = /^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*$/;
const checkpoint = /^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*@\s*epoch\s*\((.*)\)\s*$/;

/** Every task of a stage parses the same reference texts: each is parsed once (the result is frozen). */
const parsed = new Map<string, Reference | undefined>();

export function parseReference(text: string): Reference | undefined {
  if (parsed.has(text)) return parsed.get(text);
  const ref = parse(text);
  if (parsed.size < 10_000) parsed.set(text, ref && Object.freeze(ref));
  return ref;
}

function parse(text: string): Reference | undefined {
  const p = plain.exec(text);
  if (p) return { stage: p[1] };
  const c = checkpoint.exec(text);
  if (c) return { stage: c[1], epochExpr: c[2].replace(/\$\{([^}]*)\}/g, '($1)') };
  return undefined;
}
