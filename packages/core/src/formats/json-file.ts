import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { z } from 'zod';
import { UserError } from '../errors.js';

/**
 * Reading and writing the small JSON files that one package writes and another reads (task
 * provenance, cache results): every error names the file and the field, and says who writes it.
 */

/** `file` parsed against `schema`; undefined when the file does not exist. */
export function readJsonFile<S extends z.ZodType>(file: string, schema: S, writtenBy: string): z.output<S> | undefined {
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`, `the file is written by ${writtenBy}; rerun that task to rewrite it`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new UserError(`${file}: field ${field}: ${issue.message}`, `expected the file ${writtenBy} writes; rerun that task to rewrite it`);
  }
  return parsed.data;
}

/** Writes `value` as indented JSON with a final newline (the layout every such file has). */
export function writeJsonFile(file: string, value: unknown): void {
  writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}
