import type { StageDef } from '@lw/core';
import { execStage } from './exec-stage.js';

/** The stages this package provides: the generic `exec` stage for users' own scripts. */
export const stages: StageDef[] = [execStage as unknown as StageDef];
