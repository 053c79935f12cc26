import { z } from 'zod';
import { UserError } from './errors.js';

/**
 * A run's perturbation, defined once for both training loops (train/behavior, train/classify)
 * and the analysis, so that what a loop records in its params is what the analysis reads.
 *
 * Every perturbation is a window of `length` 1-based epochs from `start`, with a seed; each loop
 * adds its `type` names and its own settings by extending `perturbationWindow`. The CLIP-HBA arm's
 * types are the shared kinds themselves (method §4); the ViT arm keeps the study's names for its
 * single-epoch measurements (method §7.3), which `vitPerturbationKinds` maps to the shared kinds.
 * Both arms write it under `params.perturb`.
 */
export const perturbationKinds = ['random_target', 'label_shuffle', 'image_noise', 'blank_image'] as const;
export type PerturbationKind = (typeof perturbationKinds)[number];
export const PerturbationKind = z.enum(perturbationKinds);

/** How every figure, table title and sentence names a kind. */
export const perturbationLabels: Record<PerturbationKind, string> = {
  random_target: 'random targets',
  label_shuffle: 'label shuffle',
  image_noise: 'image noise',
  blank_image: 'blank image',
};

/** The ViT arm's type names (the study's, method §7.3) and the shared kind each one is. */
export const vitPerturbationKinds = {
  gaussian: 'image_noise',
  uniform_gray: 'blank_image',
  label_shuffle: 'label_shuffle',
  target_noise: 'random_target',
} as const satisfies Record<string, PerturbationKind>;
export type VitPerturbationType = keyof typeof vitPerturbationKinds;

/** The fields every perturbation has, whatever the arm. */
export const perturbationWindow = z.object({
  start: z.number().int().min(1).describe('First perturbed epoch, 1-based'),
  length: z.number().int().min(1).default(1).describe('Number of perturbed epochs'),
  seed: z.number().int().default(42).describe('Perturbation seed (the sweep used 42, the length runs 0)'),
});

/** A perturbation as the analysis sees it: the shared kind, the type name in the params, the window and seed. */
export interface Perturbation {
  kind: PerturbationKind;
  /** The name written in the params (`gaussian` for the ViT's image noise). */
  type: string;
  start: number;
  length: number;
  seed: number;
}

/** Every type name a training loop writes in `params.perturb.type`, and its shared kind. */
const KIND_OF_TYPE: Record<string, PerturbationKind> = {
  ...Object.fromEntries(perturbationKinds.map((k) => [k, k])),
  ...vitPerturbationKinds,
};

/** Loose on purpose: each arm has settings of its own beside these (distribution, std). */
const PerturbParams = perturbationWindow.extend({ type: z.string() });

/**
 * The perturbation recorded in a task's params (`params.perturb`); undefined when there is none
 * (a baseline). A malformed one is a UserError naming the field.
 */
export function readPerturbation(params: Record<string, unknown>): Perturbation | undefined {
  if (params.perturb === undefined) {
    if (params.measure !== undefined) {
      throw new UserError(
        'params.measure is the old name of the ViT measurement (now params.perturb, with start and length)',
        'rerun the task with this version of train/classify',
      );
    }
    return undefined;
  }
  const parsed = PerturbParams.safeParse(params.perturb);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserError(`params.perturb.${issue.path.join('.')}: ${issue.message}`, 'expected { type, start, length, seed }');
  }
  const { type, start, length, seed } = parsed.data;
  const kind = KIND_OF_TYPE[type];
  if (!kind) throw new UserError(`params.perturb.type: unknown perturbation type "${type}"`, `expected one of ${Object.keys(KIND_OF_TYPE).join(', ')}`);
  return { kind, type, start, length, seed };
}
