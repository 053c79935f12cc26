import { readFileSync } from 'node:fs';
import { UserError } from '@lw/core';

/** Reads an input file; a missing or unreadable file is the user's error, named by path. */
export function readInput(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${path}: file not found`);
    if (code === 'EISDIR') throw new UserError(`${path}: is a directory, not a file`);
    if (code === 'EACCES') throw new UserError(`${path}: permission denied`);
    throw e;
  }
}
