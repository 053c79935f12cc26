import type { PerturbationKind } from '../perturbation.js';

/**
 * The per-epoch metrics tables a training task writes (`metrics.csv` in the study's column layout,
 * `metrics.arrow` with the same columns) and the analysis reads. Defined here once for the writer
 * (@lw/train) and the readers (@lw/analysis's CSV and Arrow readers).
 */

/** The study's first five columns (method §3.3), which every CLIP-HBA metrics file starts with. */
export const studyMetricsColumns = ['epoch', 'train_loss', 'test_loss', 'behavioral_rsa_rho', 'behavioral_rsa_p_value'] as const;

/**
 * The study's flag columns (written True/False) and the perturbation kind each one marks, in the
 * order later versions of the study's code appended them: its files have 5, 7, 8 or 9 columns.
 */
export const perturbationFlagColumns = [
  ['used_random_targets', 'random_target'],
  ['used_shuffled_targets', 'label_shuffle'],
  ['used_uniform_images', 'blank_image'],
  ['used_image_noise', 'image_noise'],
] as const satisfies ReadonlyArray<readonly [string, PerturbationKind]>;
export type PerturbationFlagColumn = (typeof perturbationFlagColumns)[number][0];

/** `train/behavior`: the study's 9-column layout, the five columns and then all four flags. */
export const behaviorMetricsColumns: readonly string[] = [...studyMetricsColumns, ...perturbationFlagColumns.map(([column]) => column)];

/** `train/classify`: the ViT arm's columns (val_loss plays the role of test_loss, rsa_rho of behavioral_rsa_rho). */
export const classifyMetricsColumns = ['epoch', 'train_loss', 'val_loss', 'val_acc', 'rsa_rho', 'rsa_p_value'] as const;

/** `train/classify` measurement tasks (params.perturb): the ViT columns plus the type trained and its epoch. */
export const measureMetricsColumns: readonly string[] = [...classifyMetricsColumns, 'perturbation', 'perturb_epoch'];
