import { z } from 'zod';
import { BackendName, ResnetConfig, VitConfig } from '@lw/models';
import { fisherParam } from '../fisher.js';
import { vitPerturbSpec } from './perturb.js';

/**
 * `train/classify` params: the ViT arm (method §7.1) and its CNN counterpart (a ResNet with the same
 * loop, schedule and RSA). The defaults are the study's (ViT-B/16,
 * batch 512, SGD lr 0.1, 100 epochs, 5 warm-up). For the toy, scale the learning rate with the
 * batch (Goyal et al.'s linear rule: 0.1 x 64 / 512 = 0.0125 at batch 64): the study's 0.1 was
 * tuned for 512 images per step.
 */
export const classifyParams = z.object({
  model: z.union([z.string(), VitConfig, ResnetConfig]).optional()
    .describe("ViT or ResNet config name (tiny-vit / tiny-resnet for the toy; vit-b16, resnet18, resnet50), or a whole config; default vit-b16, or with an init input the init's architecture (a given model must match it)"),
  seed: z.number().int().default(1).describe('Init, shuffle and augmentation seed'),
  epochs: z.number().int().min(2).default(100).describe('Epochs; the cosine schedule spans them'),
  warmupEpochs: z.number().int().min(1).default(5),
  batchSize: z.number().int().min(1).default(512).describe('Images per step (study: 256 per GPU x 2)'),
  lr: z.number().positive().default(0.1).describe('Base learning rate'),
  optimizer: z.enum(['sgd', 'adamw']).default('sgd').describe("'sgd' with momentum (study), or 'adamw' (decoupled weight decay) for a small ViT trained from scratch on little data"),
  momentum: z.number().min(0).lt(1).default(0.9).describe('SGD momentum (sgd only)'),
  weightDecay: z.number().min(0).default(1e-4),
  augment: z.enum(['imagenet-train', 'none']).default('imagenet-train').describe('RandomResizedCrop + flip (the reader\'s), or none'),
  perturb: vitPerturbSpec.optional().describe('Single-epoch perturbation measurement (method §7.3): start E needs the resume checkpoint E-1; trains epoch E only'),
  layers: z.union([z.literal('none'), z.literal('all'), z.array(z.number().int().min(0))]).default('none')
    .describe("Layer-wise RSA every epoch (layer_rsa.csv/.arrow): these layers of the model ('all', 'none' or 0-based indices; ViT: CLS after each block, ResNet: each stage's pool), plus the output"),
  fisher: fisherParam.default(false)
    .describe('Empirical Fisher trace (cross-entropy, eval mode) every epoch on the first N training items (epoch_measures.csv/.arrow); false: off'),
  layerFeatures: z.boolean().default(false)
    .describe('Also save the chosen layers\' features of the RSA images every epoch (layer_features/epoch{N}/{layer}.arrow), for CKA between layers (lw cka)'),
  backend: BackendName.default('auto'),
});
export type ClassifyParams = z.output<typeof classifyParams>;
