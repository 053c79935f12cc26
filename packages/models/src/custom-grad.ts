import { tf } from './tf.js';

/** tf.customGrad with loose typing: tfjs types the callback's inputs as a union with its save function. */
export const customGrad = (f: unknown) => tf.customGrad(f as Parameters<typeof tf.customGrad>[0]) as unknown as (...xs: tf.Tensor[]) => tf.Tensor;
