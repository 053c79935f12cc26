import { evaluate, interpolateDeep, InterpolationError, PathedInterpolationError, type Vars } from '../plan/interpolate.js';

/**
 * `${...}` in an exec `cmd`: values reach /bin/sh as data, never as code. Pasting a value into the
 * command text would let `tag: "$(rm -rf ~)"` run; instead each string variable becomes an
 * environment variable (`${tag}` -> `LW_VAR_TAG`) and the command refers to it, quoted for where
 * the reference sits, so the shell expands it once, as one word, with the exact value:
 *
 *   unquoted          echo ${tag}        -> echo "${LW_VAR_TAG}"
 *   in "..."          echo "v=${tag}"    -> echo "v=${LW_VAR_TAG}"
 *   in '...'          echo '${tag}'      -> echo ''"${LW_VAR_TAG}"''
 *
 * Numbers and booleans (typed values, and `${start - 1}` arithmetic, which lw computes) are
 * written as they are: digits cannot be code. Inside the shell's own arithmetic `$(( ))` only an
 * integer may appear, as a literal, since shells evaluate text there (bash runs `a[$(cmd)]`).
 * A backslash before `${` makes it a literal `${`, as for the shell.
 */
export interface ShellCommand {
  cmd: string;
  /** LW_VAR_<NAME> -> the value, for the command's environment (and the cache key). */
  env: Record<string, string>;
}

type Frame =
  | { kind: 'plain'; closer: ')' | '`' | null; depth: number }
  | { kind: 'dq' }
  | { kind: 'sq' }
  | { kind: 'arith'; depth: number };

export function envName(variable: string): string {
  return `LW_VAR_${variable.toUpperCase()}`;
}

export function interpolateCommand(template: string, vars: Vars): ShellCommand {
  const env: Record<string, string> = {};
  const owner = new Map<string, string>();
  const stack: Frame[] = [{ kind: 'plain', closer: null, depth: 0 }];
  let out = '';
  let i = 0;
  const top = () => stack[stack.length - 1];
  const at = (s: string) => template.startsWith(s, i);

  const placeholder = (expr: string) => {
    const frame = top();
    const name = expr.trim();
    const value = evaluate(expr, vars);
    if (frame.kind === 'arith') {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN;
      if (!Number.isInteger(n)) {
        throw new InterpolationError(`"\${${expr}}" sits inside the shell's arithmetic $(( )), where only integers may go, but it is ${JSON.stringify(value)}`);
      }
      return n < 0 ? `(${n})` : String(n);
    }
    if (typeof value !== 'string') return String(value);
    // A string is always one variable (arithmetic yields numbers).
    const variable = envName(name);
    const previous = owner.get(variable);
    if (previous !== undefined && previous !== name) {
      throw new InterpolationError(`variables "${previous}" and "${name}" would both reach the command as $${variable}; rename one of them`);
    }
    owner.set(variable, name);
    env[variable] = value;
    const ref = `\${${variable}}`;
    if (frame.kind === 'dq') return ref;
    if (frame.kind === 'sq') return `'"${ref}"'`;
    return `"${ref}"`;
  };

  while (i < template.length) {
    const frame = top();
    if (at('${')) {
      const end = template.indexOf('}', i + 2);
      if (end < 0) throw new InterpolationError(`unclosed "\${" in "${template}"`);
      out += placeholder(template.slice(i + 2, end));
      i = end + 1;
      continue;
    }
    const c = template[i];
    if (frame.kind === 'sq') {
      if (c === "'") stack.pop();
      out += c;
      i++;
      continue;
    }
    if (c === '\\') {
      out += template.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (at('$((')) {
      stack.push({ kind: 'arith', depth: 0 });
      out += '$((';
      i += 3;
      continue;
    }
    if (at('$(')) {
      stack.push({ kind: 'plain', closer: ')', depth: 0 });
      out += '$(';
      i += 2;
      continue;
    }
    if (frame.kind === 'dq') {
      if (c === '"') stack.pop();
      else if (c === '`') stack.push({ kind: 'plain', closer: '`', depth: 0 });
    } else if (frame.kind === 'arith') {
      if (c === '(') frame.depth++;
      else if (c === ')') {
        if (frame.depth > 0) frame.depth--;
        else {
          stack.pop();
          if (template[i + 1] === ')') {
            out += '))';
            i += 2;
            continue;
          }
        }
      }
    } else {
      if (c === "'") stack.push({ kind: 'sq' });
      else if (c === '"') stack.push({ kind: 'dq' });
      else if (c === '`') {
        if (frame.closer === '`') stack.pop();
        else stack.push({ kind: 'plain', closer: '`', depth: 0 });
      } else if (c === '(') frame.depth++;
      else if (c === ')') {
        if (frame.depth > 0) frame.depth--;
        else if (frame.closer === ')') stack.pop();
      }
    }
    out += c;
    i++;
  }
  return { cmd: out, env };
}

/**
 * The params of an `exec` block for one condition: `cmd` through interpolateCommand, its values
 * joined to `env` (so they enter the cache key with the rest of the params); every other param
 * interpolated as any stage's. Errors carry the param's path, as interpolateDeep's do.
 */
export function interpolateExecParams(params: Record<string, unknown>, vars: Vars): Record<string, unknown> {
  const { cmd, ...rest } = params;
  const out = interpolateDeep(rest, vars) as Record<string, unknown>;
  if (typeof cmd !== 'string') return cmd === undefined ? out : { ...out, cmd };
  let command: ShellCommand;
  try {
    command = interpolateCommand(cmd, vars);
  } catch (e) {
    if (e instanceof InterpolationError) throw new PathedInterpolationError(e.message, ['cmd']);
    throw e;
  }
  if (Object.keys(command.env).length === 0) return { ...out, cmd: command.cmd };
  const given = out.env;
  if (given !== undefined && (given === null || typeof given !== 'object' || Array.isArray(given))) return { ...out, cmd: command.cmd };
  for (const name of Object.keys(command.env)) {
    if (given && Object.hasOwn(given, name)) {
      throw new PathedInterpolationError(`env.${name} is set here and also by a variable of cmd, which reaches the command as $${name}`, ['env', name]);
    }
  }
  return { ...out, cmd: command.cmd, env: { ...(given as Record<string, unknown> | undefined), ...command.env } };
}
