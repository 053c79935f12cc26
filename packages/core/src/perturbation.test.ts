import { describe, expect, it } from 'vitest';
import { perturbationLabels, perturbationWindow, readPerturbation, vitPerturbationKinds } from './perturbation.js';

describe('readPerturbation', () => {
  it('reads the CLIP-HBA arm\'s params.perturb with its defaults', () => {
    expect(readPerturbation({ seed: 2, perturb: { type: 'label_shuffle', start: 7, distribution: 'target' } })).toEqual({
      kind: 'label_shuffle', type: 'label_shuffle', start: 7, length: 1, seed: 42,
    });
  });

  it('maps the ViT arm\'s study names to the shared kinds', () => {
    const kinds = Object.keys(vitPerturbationKinds).map((type) => readPerturbation({ perturb: { type, start: 5, length: 1, seed: 42, std: 0.1 } })!.kind);
    expect(kinds).toEqual(['image_noise', 'blank_image', 'label_shuffle', 'random_target']);
    expect(kinds.map((k) => perturbationLabels[k])).toEqual(['image noise', 'blank image', 'label shuffle', 'random targets']);
  });

  it('is undefined for a baseline', () => {
    expect(readPerturbation({ seed: 1, epochs: 10 })).toBeUndefined();
  });

  it('names the bad field, an unknown type, and the old params.measure', () => {
    expect(() => readPerturbation({ perturb: { type: 'random_target', start: 0 } })).toThrow(/^params\.perturb\.start: /);
    expect(() => readPerturbation({ perturb: { type: 'shuffle', start: 3 } })).toThrow(/unknown perturbation type "shuffle"/);
    expect(() => readPerturbation({ measure: { type: 'gaussian' } })).toThrow(/params\.measure is the old name/);
  });

  it('is the window both arms extend', () => {
    expect(Object.keys(perturbationWindow.shape)).toEqual(['start', 'length', 'seed']);
  });
});
