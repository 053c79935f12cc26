/**
 * The ViT arm's learning rate per epoch (method §7.1, `CosineAnnealingLRWithWarmup` stepped once
 * after each epoch), as a closed form of the 0-based epoch k:
 *
 *   k = 0                 base             (the quirk: the scheduler is first stepped after epoch 0)
 *   1 <= k <= W           base * k / W     (warm-up; the study: 0.02, 0.04, 0.06, 0.08, 0.1)
 *   k >= W + 1            base * 0.5 * (1 + cos(pi * (k - W - 1) / (E - W)))
 *
 * With the study's E = 100, W = 5 the last epoch (k = 99) runs at 0.1 * 0.5 * (1 + cos(93 pi / 95))
 * ≈ 1.09e-4. Scaling to another number of epochs E keeps the cosine ending one step before zero.
 */
export function vitLearningRate(epoch0: number, base: number, epochs: number, warmup: number): number {
  if (!Number.isInteger(epoch0) || epoch0 < 0) throw new RangeError(`epoch must be a 0-based integer, got ${epoch0}`);
  if (warmup < 1 || epochs <= warmup) throw new RangeError(`need 1 <= warmup < epochs, got warmup ${warmup}, epochs ${epochs}`);
  if (epoch0 === 0) return base;
  if (epoch0 <= warmup) return (base * epoch0) / warmup;
  return base * 0.5 * (1 + Math.cos((Math.PI * (epoch0 - warmup - 1)) / (epochs - warmup)));
}
