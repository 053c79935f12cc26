/**
 * `${expr}` interpolation: `expr` is integer arithmetic (+ - * / and parentheses) over integer
 * literals and variables, or a single variable of any type. A string that is exactly one
 * `${...}` takes the value's own type (`"${start}"` -> 5), so interpolated params stay typed.
 * Division must be exact: `${7 / 2}` is an error rather than a silent rounding.
 */
export type Vars = Record<string, string | number | boolean>;

export class InterpolationError extends Error {}

const whole = /^\$\{([^}]*)\}$/;
const anywhere = /\$\{([^}]*)\}/g;

/**
 * A text as interpolation sees it, worked out once per distinct text (a matrix stage interpolates
 * the same params for every condition): one whole expression, literal text and expressions in
 * turn, or an unclosed `${`.
 */
type Template = { kind: 'whole'; expr: string } | { kind: 'parts'; literals: string[]; exprs: string[] } | { kind: 'unclosed' };
const templates = new Map<string, Template>();

function template(text: string): Template {
  let t = templates.get(text);
  if (t !== undefined) return t;
  const one = whole.exec(text);
  if (one) t = { kind: 'whole', expr: one[1] };
  else if (!/\$\{[^}]*\}/.test(text)) t = { kind: 'unclosed' };
  else {
    const literals: string[] = [];
    const exprs: string[] = [];
    let last = 0;
    for (const m of text.matchAll(anywhere)) {
      literals.push(text.slice(last, m.index));
      exprs.push(m[1]);
      last = m.index + m[0].length;
    }
    literals.push(text.slice(last));
    t = { kind: 'parts', literals, exprs };
  }
  if (templates.size < 100_000) templates.set(text, t);
  return t;
}

export function interpolateString(text: string, vars: Vars): string | number | boolean {
  if (!text.includes('${')) return text;
  const t = template(text);
  if (t.kind === 'whole') return evaluate(t.expr, vars);
  if (t.kind === 'unclosed') throw new InterpolationError(`unclosed "\${" in "${text}"`);
  // Left to right, as String.replace would: the first failing expression is the one reported.
  let out = t.literals[0];
  for (let i = 0; i < t.exprs.length; i++) out += String(evaluate(t.exprs[i], vars)) + t.literals[i + 1];
  return out;
}

/** Interpolates every string inside a JSON-like value; a failure throws PathedInterpolationError with the value's path. */
export function interpolateDeep(value: unknown, vars: Vars, path: (string | number)[] = []): unknown {
  return deep(value, vars, [...path]);
}

/** `path` is a stack, pushed and popped on the way down (copied only for an error). */
function deep(value: unknown, vars: Vars, path: (string | number)[]): unknown {
  if (typeof value === 'string') {
    try {
      return interpolateString(value, vars);
    } catch (e) {
      if (e instanceof InterpolationError) throw new PathedInterpolationError(e.message, [...path]);
      throw e;
    }
  }
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      out[i] = deep(value[i], vars, path);
      path.pop();
    }
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) {
      path.push(k);
      const v = deep((value as Record<string, unknown>)[k], vars, path);
      // A key "__proto__" stays a plain own key (as Object.fromEntries makes it), never the prototype.
      if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      else out[k] = v;
      path.pop();
    }
    return out;
  }
  return value;
}

export class PathedInterpolationError extends InterpolationError {
  constructor(message: string, readonly path: (string | number)[]) {
    super(message);
  }
}

type Token = { kind: 'num'; value: number } | { kind: 'name'; value: string } | { kind: 'op'; value: string };

/** Tokens of each expression seen (they depend on the text alone); a failing one is tokenized again to throw. */
const tokenized = new Map<string, Token[]>();

function tokenize(expr: string): Token[] {
  const known = tokenized.get(expr);
  if (known !== undefined) return known;
  const tokens = scan(expr);
  if (tokenized.size < 100_000) tokenized.set(expr, tokens);
  return tokens;
}

function scan(expr: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)|([-+*/()]))/y;
  let at = 0;
  while (at < expr.length) {
    if (/^\s*$/.test(expr.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(expr);
    if (!m) throw new InterpolationError(`unexpected "${expr.slice(at).trim()}" in "\${${expr}}"; expressions use integers, variables, + - * / and parentheses`);
    if (m[1] !== undefined) tokens.push({ kind: 'num', value: Number(m[1]) });
    else if (m[2] !== undefined) tokens.push({ kind: 'name', value: m[2] });
    else tokens.push({ kind: 'op', value: m[3] });
    at = re.lastIndex;
  }
  return tokens;
}

/** Recursive descent: sum := product (('+'|'-') product)*; product := unary (('*'|'/') unary)*. */
export function evaluate(expr: string, vars: Vars): string | number | boolean {
  const tokens = tokenize(expr);
  if (tokens.length === 0) throw new InterpolationError('empty "${}"');
  if (tokens.length === 1 && tokens[0].kind === 'name') return lookup(tokens[0].value, vars, expr);
  let i = 0;
  const peek = () => tokens[i];
  const fail = (what: string): never => {
    throw new InterpolationError(`${what} in "\${${expr}}"`);
  };
  const integer = (name: string): number => {
    const v = lookup(name, vars, expr);
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isInteger(n)) fail(`variable "${name}" is ${JSON.stringify(v)}, not an integer, so it cannot take part in arithmetic`);
    return n;
  };
  const unary = (): number => {
    const t = tokens[i++];
    if (!t) return fail('expression ends early');
    if (t.kind === 'op' && t.value === '-') return -unary();
    if (t.kind === 'op' && t.value === '(') {
      const v = sum();
      const close = tokens[i++];
      if (!close || close.kind !== 'op' || close.value !== ')') fail('missing ")"');
      return v;
    }
    if (t.kind === 'num') return t.value;
    if (t.kind === 'name') return integer(t.value);
    return fail(`unexpected "${t.value}"`);
  };
  const product = (): number => {
    let v = unary();
    for (let t = peek(); t && t.kind === 'op' && (t.value === '*' || t.value === '/'); t = peek()) {
      i++;
      const r = unary();
      if (t.value === '*') v *= r;
      else {
        if (r === 0) fail('division by zero');
        if (v % r !== 0) fail(`${v} / ${r} is not an integer`);
        v = v / r;
      }
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    for (let t = peek(); t && t.kind === 'op' && (t.value === '+' || t.value === '-'); t = peek()) {
      i++;
      v = t.value === '+' ? v + product() : v - product();
    }
    return v;
  };
  const value = sum();
  if (i < tokens.length) fail(`unexpected "${String(tokens[i].value)}"`);
  return value;
}

function lookup(name: string, vars: Vars, expr: string): string | number | boolean {
  if (!Object.hasOwn(vars, name)) {
    const known = Object.keys(vars);
    throw new InterpolationError(
      `undefined variable "${name}" in "\${${expr}}"` + (known.length ? `; defined here: ${known.join(', ')}` : '; no variables are defined here'),
    );
  }
  return vars[name];
}
