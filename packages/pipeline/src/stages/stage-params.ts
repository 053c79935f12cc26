import { z } from 'zod';

/**
 * A stage's params for people (`lw stages`): name, type, default and description of each, read
 * from its zod schema through JSON Schema (the form editors see), so nothing is listed by hand.
 * Params inside a nested object (`perturb.type`) are listed one by one under dotted names.
 */
export interface ParamInfo {
  name: string;
  type: string;
  required: boolean;
  default?: unknown;
  description?: string;
}

type Json = Record<string, unknown>;

export function describeParams(schema: z.ZodType): ParamInfo[] {
  const root = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  const out: ParamInfo[] = [];
  const walk = (node: Json, prefix: string) => {
    const props = (node.properties ?? {}) as Record<string, Json>;
    const required = new Set((node.required ?? []) as string[]);
    for (const [key, prop] of Object.entries(props)) {
      const name = prefix + key;
      if (prop.type === 'object' && prop.properties && !prop.additionalProperties) {
        if (prop.description) out.push({ name, type: 'object', required: required.has(key), ...info(prop) });
        walk(prop, `${name}.`);
        continue;
      }
      out.push({ name, type: typeOf(prop), required: required.has(key) && prop.default === undefined, ...info(prop) });
    }
  };
  walk(root, '');
  return out;
}

function info(prop: Json): Pick<ParamInfo, 'default' | 'description'> {
  return {
    ...(prop.default !== undefined ? { default: prop.default } : {}),
    ...(typeof prop.description === 'string' ? { description: prop.description } : {}),
  };
}

const SAFE = Number.MAX_SAFE_INTEGER;

/** JSON Schema -> a short type: `integer >= 1`, `correlation|cosine`, `string[]`, `{NAME: string}`. */
export function typeOf(s: Json): string {
  if (Array.isArray(s.enum)) return s.enum.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('|');
  if (s.const !== undefined) return JSON.stringify(s.const);
  const union = (s.anyOf ?? s.oneOf) as Json[] | undefined;
  if (union) return [...new Set(union.map(typeOf))].join(' | ');
  if (Array.isArray(s.type)) return s.type.join('|');
  if (s.type === 'array') return `${wrap(typeOf((s.items ?? {}) as Json))}[]`;
  if (s.type === 'object') {
    if (s.additionalProperties && typeof s.additionalProperties === 'object') return `{ NAME: ${typeOf(s.additionalProperties as Json)} }`;
    return 'object';
  }
  if (s.type === 'integer' || s.type === 'number') return `${s.type}${range(s)}`;
  return typeof s.type === 'string' ? s.type : 'any';
}

function wrap(t: string): string {
  return /[ |]/.test(t) ? `(${t})` : t;
}

function range(s: Json): string {
  const bound = (v: unknown) => (typeof v === 'number' && Math.abs(v) < SAFE ? v : undefined);
  const lo = bound(s.minimum), hi = bound(s.maximum), xlo = bound(s.exclusiveMinimum), xhi = bound(s.exclusiveMaximum);
  if (lo !== undefined && hi !== undefined) return ` ${lo}..${hi}`;
  const parts = [lo !== undefined ? `>= ${lo}` : xlo !== undefined ? `> ${xlo}` : '', hi !== undefined ? `<= ${hi}` : xhi !== undefined ? `< ${xhi}` : ''].filter(Boolean);
  return parts.length ? ` ${parts.join(', ')}` : '';
}
