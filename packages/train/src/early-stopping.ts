/**
 * Early stopping on the validation MSE, as the study's loop does it (method §3.2 step 7, §3.4 step 6):
 * - a strictly lower loss becomes the new best and resets the counter to 0;
 * - otherwise the counter goes up by 1, except inside a perturbation window, where it is frozen;
 * - training stops when the counter reaches `patience`.
 * A fresh baseline run starts from the initial model's validation loss; a perturbation or resumed
 * run starts from the study's sentinel 500000 with the counter at 0.
 */
export const RESUMED_BEST_LOSS = 500000;

export interface EarlyStoppingState {
  best: number;
  counter: number;
}

/** The state after one epoch's validation loss, and whether to stop now. */
export function earlyStoppingUpdate(
  state: EarlyStoppingState,
  testLoss: number,
  patience: number,
  inPerturbationWindow: boolean,
): { state: EarlyStoppingState; stop: boolean } {
  let { best, counter } = state;
  if (testLoss < best) {
    best = testLoss;
    counter = 0;
  } else if (!inPerturbationWindow) {
    counter += 1;
  }
  return { state: { best, counter }, stop: counter >= patience };
}
