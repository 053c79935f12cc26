import type { CliCommand } from '@lw/core';

/** The `lw` subcommands this package provides; `@lw/pipeline` mounts them. */
export const commands: CliCommand[] = [];
