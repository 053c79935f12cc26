/**
 * An error caused by the user's input (a file, a flag, a value), not by a bug.
 * The CLI prints it as one paragraph with its hint and no stack trace.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    /** What would be right, e.g. "expected an integer range such as \"1..98\"". */
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof Error && e.name === 'UserError';
}

/** Text for the terminal: user errors without a stack, anything else with one. */
export function formatError(e: unknown): string {
  if (isUserError(e)) return e.hint ? `error: ${e.message}\n  hint: ${e.hint}` : `error: ${e.message}`;
  if (e instanceof Error) return `internal error: ${e.stack ?? e.message}`;
  return `internal error: ${String(e)}`;
}
