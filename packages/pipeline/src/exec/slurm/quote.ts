import { UserError } from '@lw/core';

/**
 * POSIX shell single-quoting, the one escaper for everything written into a job script.
 * Inside '...' the shell interprets nothing (no `$`, backticks, backslashes or newlines), so the
 * only character to handle is the single quote itself: close the quote, write an escaped quote,
 * reopen (`it's` -> `'it'\''s'`). NUL cannot be part of any shell word or path, so it is refused.
 */
export function shellQuote(value: string): string {
  if (value.includes('\0')) {
    throw new UserError(
      `cannot pass ${JSON.stringify(value)} to a shell: it contains a NUL byte`,
      'remove the NUL character from the value or path',
    );
  }
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A whole command line, each word quoted: what `sh -c` or a job script runs as exactly `argv`. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
