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

export function interpolateString(text: string, vars: Vars): string | number | boolean {
  const one = whole.exec(text);
  if (one) return evaluate(one[1], vars);
  if (text.includes('${') && !/\$\{[^}]*\}/.test(text)) throw new InterpolationError(`unclosed "\${" in "${text}"`);
  return text.replace(anywhere, (_, expr: string) => String(evaluate(expr, vars)));
}

/** Interpolates every string inside a JSON-like value; calls `onError(path, message)` on failures. */
export function interpolateDeep(value: unknown, vars: Vars, path: (string | number)[] = []): unknown {
  if (typeof value === 'string') {
    try {
      return interpolateString(value, vars);
    } catch (e) {
      if (e instanceof InterpolationError) throw new PathedInterpolationError(e.message, path);
      throw e;
    }
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateDeep(v, vars, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, vars, [...path, k])]));
  }
  return value;
}

export class PathedInterpolationError extends InterpolationError {
  constructor(message: string, readonly path: (string | number)[]) {
    super(message);
  }
}

type Token = { kind: 'num'; value: number } | { kind: 'name'; value: string } | { kind: 'op'; value: string };

function tokenize(expr: string): Token[] {
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
