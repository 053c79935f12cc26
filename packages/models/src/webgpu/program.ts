import { tf } from '../tf.js';

/**
 * The fields of tfjs-webgpu's WebGPUProgram that our kernels set (the package does not export the
 * type). tfjs wraps `getUserCode()` in its preamble: bindings for `variableNames` and `result`, a
 * `uniforms` struct (shapes, then our `uniforms` fields) and the thread ids.
 */
export interface WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  variableComponents?: number[];
  outputComponent?: number;
  workgroupSize: [number, number, number];
  /** Adds `uniforms.size` (the output's element count) and a flat `main(index)`. */
  size?: boolean;
  /** Our uniform fields, e.g. 'splits : i32, kChunk : i32,'; their values are `intUniforms`. */
  uniforms?: string;
  getUserCode(): string;
}

interface WebgpuBackend {
  runWebGPUProgram(p: WebGPUProgram, inputs: tf.TensorInfo[], dtype: 'float32', uniforms: { type: 'int32'; data: number[] }[]): tf.TensorInfo;
}

/** Runs `program` on a kernel's backend (float32 output), with `intUniforms` as its own uniform fields in order. */
export function runProgram(backend: unknown, program: WebGPUProgram, inputs: tf.TensorInfo[], intUniforms: number[] = []): tf.TensorInfo {
  return (backend as WebgpuBackend).runWebGPUProgram(program, inputs, 'float32', intUniforms.map((v) => ({ type: 'int32', data: [v] })));
}
