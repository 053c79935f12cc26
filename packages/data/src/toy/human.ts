import { Rng } from '@lw/core';
import { SHAPES, SIZE_RANGE, type ToyFactors } from './factors.js';
import { SHAPE_ATTRIBUTES, rawEmbedding } from './embedding.js';

/**
 * The toy set's "human" RDM, simulated the way THINGS' RDM48_triplet was measured (method §2.1):
 * odd-one-out judgments on every triplet of the test items; the similarity of (i, j) is the fraction
 * of judged triplets holding both in which they were kept together, and RDM = 1 - similarity.
 *
 * The simulated observers choose by SPoSE's own generative model (Hebart et al. 2020): the pair
 * kept together is drawn with probability ∝ exp(beta · similarity), where similarity is the dot
 * product of the two items' latent dimension responses (the unrescaled 66-d function of the factors,
 * i.e. what the published embedding estimates, not the rescaled targets), mixed with an observer-own
 * perceptual distance over the factors (colour as a point in a chroma plane, shape by identity and
 * attributes, size, texture; position and rotation ignored) that the embedding does not contain.
 * Choice noise plus that private component keep the RDM clearly but imperfectly aligned with the
 * embedding's RDM: seed 1 gives Spearman 0.86 between the test targets' correlation RDM and this RDM,
 * as the real SPoSE-48 vs RDM48_triplet (0.864). The earlier purely perceptual observers gave 0.65,
 * which left the toy study nothing to learn: the caption-pretrained CLIP already matched them (its
 * initial RSA was ~0.65) and fitting the embedding could only lower RSA.
 * Ties (fractions with small denominators) remain, as in the real RDM.
 */

/** Observers' perceptual distance between two items. */
export function perceptualDistance(a: ToyFactors, b: ToyFactors): number {
  const sa = SHAPE_ATTRIBUTES[SHAPES[a.shape]], sb = SHAPE_ATTRIBUTES[SHAPES[b.shape]];
  const attr = Math.hypot(sa.round - sb.round, sa.pointed - sb.pointed, sa.elongated - sb.elongated, sa.hollow - sb.hollow, sa.angular - sb.angular);
  const shape = (a.shape === b.shape ? 0 : 0.5) + 0.5 * attr;
  const chroma = Math.hypot(
    a.saturation * Math.cos(2 * Math.PI * a.hue) - b.saturation * Math.cos(2 * Math.PI * b.hue),
    a.saturation * Math.sin(2 * Math.PI * a.hue) - b.saturation * Math.sin(2 * Math.PI * b.hue),
  );
  const brightness = Math.abs(a.value - b.value);
  const size = Math.abs(a.size - b.size) / (SIZE_RANGE[1] - SIZE_RANGE[0]);
  const texture = a.texture === b.texture ? 0 : 1;
  return 1.0 * shape + 1.1 * chroma + 0.4 * brightness + 0.35 * size + 0.3 * texture;
}

export interface TripletOptions {
  /** Softmax inverse temperature of the simulated choices: higher = less noisy observers. */
  beta: number;
  /** Weight of the embedding's dot-product similarity; 1 - weight goes to the perceptual distance. */
  embeddingWeight: number;
  /** Each triplet is judged 1..maxRepeats times (uniform), so pair denominators vary as in the real data. */
  maxRepeats: number;
}

/** [n, n] RDM from simulated odd-one-out judgments; a pure function of (items, seed). */
export function simulateTripletRdm(items: ToyFactors[], seed: number, opts: TripletOptions = { beta: 3, embeddingWeight: 0.6, maxRepeats: 2 }): Float64Array {
  const n = items.length;
  const latent = items.map(rawEmbedding); // [n][66]
  const w = opts.embeddingWeight;
  // d = negative similarity: choices favour the pair with the smallest d
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let k = 0; k < latent[i].length; k++) dot += latent[i][k] * latent[j][k];
      d[i * n + j] = (1 - w) * perceptualDistance(items[i], items[j]) - w * dot;
    }
  }
  const together = new Float64Array(n * n), seen = new Float64Array(n * n);
  const rng = new Rng(seed, 'toy', 'human-triplets');
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      for (let k = j + 1; k < n; k++) {
        // the pair judged most similar stays together; the third item is the odd one out
        const wij = Math.exp(-opts.beta * d[i * n + j]), wik = Math.exp(-opts.beta * d[i * n + k]), wjk = Math.exp(-opts.beta * d[j * n + k]);
        const reps = 1 + rng.int(opts.maxRepeats);
        for (let r = 0; r < reps; r++) {
          const u = rng.uniform() * (wij + wik + wjk);
          const [p, q] = u < wij ? [i, j] : u < wij + wik ? [i, k] : [j, k];
          together[p * n + q]++;
          seen[i * n + j]++; seen[i * n + k]++; seen[j * n + k]++;
        }
      }
    }
  }
  const rdm = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = 1 - together[i * n + j] / seen[i * n + j];
      rdm[i * n + j] = v;
      rdm[j * n + i] = v;
    }
  }
  return rdm;
}
