import { z } from 'zod';
import { BackendName } from '@lw/models';
import { fisherParam } from '../fisher.js';
import { perturbSpec } from '../perturb.js';

/** `train/behavior` params: CLIP-HBA fine-tuning on the 66 behavioural dimensions (method §1.4, §3.1). */
export const behaviorParams = z.object({
  seed: z.number().int().default(1).describe('Seed of the shuffle order and the DoRA initialisation (study: 1)'),
  epochs: z.number().int().min(1).default(500).describe('Maximum number of epochs (study: 500)'),
  patience: z.number().int().min(1).default(20).describe('Early-stopping patience on validation MSE (baseline 20; published sweep 10)'),
  batchSize: z.number().int().min(1).default(64).describe('Training and evaluation batch size (study: 64)'),
  lr: z.number().positive().default(3e-4).describe('AdamW learning rate (study: 3e-4, constant)'),
  weightDecay: z.number().min(0).default(0.01).describe("AdamW decoupled weight decay (torch default 0.01)"),
  perturb: perturbSpec.optional().describe('Perturbation window (method §4); absent for the baseline'),
  featureCache: z.boolean().default(true).describe('Use the features input for epochs with clean images'),
  layers: z.union([z.literal('none'), z.literal('all'), z.array(z.number().int().min(0))]).default('none')
    .describe("Layer-wise RSA every epoch (layer_rsa.csv/.arrow): the CLS token after these vision blocks ('all', 'none' or 0-based indices), plus the output"),
  fisher: fisherParam.default(false)
    .describe('Empirical Fisher trace of the trainable parameters every epoch on the first N training items (epoch_measures.csv/.arrow); false: off'),
  layerFeatures: z.boolean().default(false)
    .describe('Also save the chosen layers\' features of the RSA images every epoch (layer_features/epoch{N}/{layer}.arrow), for CKA between layers (lw cka)'),
  backend: BackendName.default('auto').describe('tfjs backend; recorded in params.json'),
});
export type BehaviorParams = z.output<typeof behaviorParams>;
