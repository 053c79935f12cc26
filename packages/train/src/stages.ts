import type { StageDef } from '@lw/core';
import { behaviorStage } from './behavior/stage.js';
import { classifyStage } from './classify/stage.js';
import { clipImportStage } from './clip-import/stage.js';
import { featuresStage } from './features/stage.js';
import { pretrainStage } from './pretrain/stage.js';
import { resnetImportStage } from './resnet-import/stage.js';
import { vitImportStage } from './vit-import/stage.js';

/** The pipeline stages this package provides; `@lw/pipeline` registers them. */
export const stages: StageDef[] = [pretrainStage, clipImportStage, featuresStage, behaviorStage, classifyStage, vitImportStage, resnetImportStage] as unknown as StageDef[];
