import { statSync } from 'node:fs';
import { UserError } from '@lw/core';

/**
 * That a file given as an input exists and is a file, before any reader opens it: a reader's own
 * ENOENT would reach the user as an internal error with a stack, naming neither the flag nor the
 * param. `label` is how the caller names the input (`--test-index` for the CLI, `testIndex` for
 * the stage); `expected` (the param's description) goes in the hint.
 */
export function requireInputFile(file: string, label: string, expected: string): void {
  if (file.trim() === '') throw new UserError(`${label}: no file given`, `expected ${expected}`);
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${label} ${file}: ${code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file' : `cannot read (${code ?? (e as Error).message})`}`, `expected ${expected}`);
  }
  if (!isFile) throw new UserError(`${label} ${file}: is a directory, not a file`, `expected ${expected}`);
}
