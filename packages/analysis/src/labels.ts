import { perturbationKinds, perturbationLabels, type PerturbationKind } from '@lw/core';

/** The one name of each perturbation (@lw/core perturbationLabels), the same in every figure, table and sentence. */
export const typeLabel = (type: string): string => perturbationLabels[type as PerturbationKind] ?? type;

/** The labels in the kinds' order (random targets, label shuffle, image noise, blank image). */
export const TYPE_ORDER = perturbationKinds.map((k) => perturbationLabels[k]);
