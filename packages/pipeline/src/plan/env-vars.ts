import { UserError } from '@lw/core';
import type { Vars } from './interpolate.js';
import type { EnvVar } from './schema.js';

/**
 * Resolves `vars:` entries of the form `{ env: NAME }` from the environment (a `--set` override has
 * already replaced them with plain values). Every missing one is reported in one error, each with
 * its place in the file, its environment variable and the `--set` that would also work, so a
 * researcher pointing a pipeline at their data sees the whole list at once.
 */
export function resolveEnvVars(vars: Record<string, Vars[string] | EnvVar>, env: NodeJS.ProcessEnv, at: (name: string) => string): Vars {
  const out: Vars = {};
  const missing: string[] = [];
  for (const [name, value] of Object.entries(vars)) {
    if (typeof value !== 'object') { out[name] = value; continue; }
    const raw = env[value.env];
    if (raw !== undefined && raw !== '') out[name] = raw;
    else if (value.default !== undefined) out[name] = value.default;
    else missing.push(`${at(name)}: variable "${name}"${value.description ? ` (${value.description})` : ''} is not set: export ${value.env}=... or pass --set ${name}=...`);
  }
  if (missing.length > 0) {
    throw new UserError(
      `${missing.length} required variable${missing.length > 1 ? 's are' : ' is'} not set:\n  ${missing.join('\n  ')}`,
      'each one names a path on this machine; see the comments at the top of the pipeline file',
    );
  }
  return out;
}
