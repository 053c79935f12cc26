import type { StageDef } from '@lw/core';

/** The pipeline stages this package provides; `@lw/pipeline` registers them. */
export const stages: StageDef[] = [];
