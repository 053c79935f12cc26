import { parse as parseYaml } from 'yaml';
import { UserError } from '@lw/core';

/**
 * `--set key=value` overrides, applied to the parsed file before validation. `key` is a variable
 * of `vars:` (`--set seed=2`) or a dotted path into the file (`--set stages.baseline.params.epochs=5`).
 * The value is read as YAML, so `5` is a number, `[a, b]` a list and `"5"` a string.
 */
export function applyOverrides(data: unknown, sets: string[]): unknown {
  const root = structuredClone((data ?? {}) as Record<string, unknown>);
  for (const set of sets) {
    const eq = set.indexOf('=');
    if (eq <= 0) throw new UserError(`--set ${set}: expected KEY=VALUE`, 'e.g. --set seed=2 or --set stages.baseline.params.epochs=5');
    const key = set.slice(0, eq).trim();
    const value = parseValue(set.slice(eq + 1), set);
    if (!key.includes('.')) {
      const vars = (root.vars ?? {}) as Record<string, unknown>;
      if (!Object.hasOwn(vars, key)) {
        const known = Object.keys(vars);
        throw new UserError(
          `--set ${set}: "${key}" is not a variable of this pipeline`,
          `variables: ${known.join(', ') || '(none)'}; to set a param use a dotted path such as stages.<stage>.params.${key}`,
        );
      }
      vars[key] = value;
      root.vars = vars;
      continue;
    }
    const path = key.split('.');
    let node: Record<string, unknown> = root;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      if (next === undefined) node[part] = {};
      else if (next === null || typeof next !== 'object' || Array.isArray(next)) {
        throw new UserError(`--set ${set}: "${part}" is not a block that can hold "${path.at(-1)}"`, 'dotted paths walk through mappings, e.g. stages.baseline.params.epochs');
      }
      node = node[part] as Record<string, unknown>;
    }
    node[path.at(-1)!] = value;
  }
  return root;
}

function parseValue(text: string, set: string): unknown {
  try {
    return parseYaml(text);
  } catch (e) {
    throw new UserError(`--set ${set}: the value is not valid YAML: ${(e as Error).message.split('\n')[0]}`, 'quote strings holding ": " or "#"');
  }
}
