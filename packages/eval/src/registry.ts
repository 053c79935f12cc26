import type { StageDef } from '@lw/core';
import { ckaStage } from './cka-stage.js';
import { rsaStage } from './stages.js';

/** The pipeline stages this package provides; `@lw/pipeline` registers them. */
export const stages: StageDef[] = [rsaStage as unknown as StageDef, ckaStage as unknown as StageDef];
