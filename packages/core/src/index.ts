export * from './hash.js';
export * from './errors.js';
export * from './rng.js';
export * from './progress.js';
export * from './stage.js';
export * from './shared.js';
export * from './cli.js';
export { readMat, type MatArray } from './formats/mat.js';
export { readNpy, type NpyArray } from './formats/npy.js';
