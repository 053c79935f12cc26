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

/**
 * A compute shader of our own (whole WGSL, bindings included) with several outputs, dispatched into
 * tfjs-webgpu's command stream the way its runWebGPUProgram does (same compute pass and submit batching,
 * same deferred release of buffers the queue still uses, timestamp queries under tf.profile), because
 * runWebGPUProgram binds a single output. Bindings: outputs 0..m-1 (read_write), inputs m..m+n-1 (read),
 * then the uniform struct of `uniforms` (scalars only, 4 bytes each, in order).
 */
export interface RawProgram {
  /** Cache key of the compiled pipeline: must name everything that changes `code`. */
  key: string;
  code: () => string;
  outputs: { shape: number[]; dtype: 'float32' | 'int32' }[];
  dispatch: [number, number, number];
}

/** The parts of tfjs-webgpu's WebGPUBackend that runRaw drives (not in its public typings). */
// Minimal shapes of the WebGPU objects used (the project does not depend on @webgpu/types).
type Layout = object;
interface Pipeline { getBindGroupLayout(i: number): Layout }
interface Device {
  createComputePipeline(d: { layout: 'auto'; compute: { module: object; entryPoint: string } }): Pipeline;
  createShaderModule(d: { code: string }): object;
  createBindGroup(d: { layout: Layout; entries: { binding: number; resource: object }[] }): object;
  createQuerySet(d: { type: 'timestamp'; count: number }): object;
}
interface PassEncoder { setPipeline(p: Pipeline): void; setBindGroup(i: number, g: object): void; dispatchWorkgroups(x: number, y: number, z: number): void }
interface WebgpuInternals {
  device: Device;
  commandEncoder: { beginComputePass(d: object): PassEncoder } | null;
  computePassEncoder: PassEncoder | null;
  dispatchCountInPass: number;
  commandQueueOwnedIds: WeakSet<object>;
  activeTimers: { name: string; query: Promise<number> }[] | null;
  supportTimestampQuery: boolean;
  querySet: object | null;
  querySetCount: number;
  makeTensorInfo(shape: number[], dtype: string): tf.TensorInfo;
  uploadToGPU(dataId: object): void;
  tensorToBinding(t: tf.TensorInfo): object;
  makeUniforms(u: { type: 'int32' | 'float32' | 'uint32'; data: number[] }[]): object;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  getQueryTime(): Promise<number>;
}

const rawPipelines = new WeakMap<Device, Map<string, { pipeline: Pipeline; layout: Layout }>>();

export function runRaw(backend: unknown, p: RawProgram, inputs: tf.TensorInfo[], uniforms: { type: 'int32' | 'float32' | 'uint32'; data: number[] }[]): tf.TensorInfo[] {
  const b = backend as WebgpuInternals;
  const outputs = p.outputs.map((o) => b.makeTensorInfo(o.shape, o.dtype));
  for (const t of [...outputs, ...inputs]) b.uploadToGPU(t.dataId);
  let cache = rawPipelines.get(b.device);
  if (!cache) rawPipelines.set(b.device, cache = new Map());
  let entry = cache.get(p.key);
  if (!entry) {
    const pipeline = b.device.createComputePipeline({ layout: 'auto', compute: { module: b.device.createShaderModule({ code: p.code() }), entryPoint: 'main' } });
    cache.set(p.key, entry = { pipeline, layout: pipeline.getBindGroupLayout(0) });
  }
  const bindings = [...outputs, ...inputs].map((t) => b.tensorToBinding(t));
  if (uniforms.length) bindings.push(b.makeUniforms(uniforms));
  for (const t of [...outputs, ...inputs]) b.commandQueueOwnedIds.add(t.dataId);
  const bindGroup = b.device.createBindGroup({ layout: entry.layout, entries: bindings.map((resource, binding) => ({ binding, resource })) });
  b.ensureCommandEncoderReady();
  const timed = b.activeTimers != null && b.supportTimestampQuery;
  if (timed) {
    b.endComputePassEncoder();
    if (b.querySet == null) b.querySet = b.device.createQuerySet({ type: 'timestamp', count: b.querySetCount });
    b.computePassEncoder = b.commandEncoder!.beginComputePass({ timestampWrites: { querySet: b.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
  } else if (!b.computePassEncoder) {
    b.computePassEncoder = b.commandEncoder!.beginComputePass({});
  }
  b.computePassEncoder!.setPipeline(entry.pipeline);
  b.computePassEncoder!.setBindGroup(0, bindGroup);
  b.computePassEncoder!.dispatchWorkgroups(...p.dispatch);
  b.dispatchCountInPass++;
  if (b.activeTimers != null || tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number <= b.dispatchCountInPass) {
    b.endComputePassEncoder();
    if (b.activeTimers != null) b.activeTimers.push({ name: p.key, query: b.getQueryTime() });
    else b.submitQueue();
  }
  return outputs;
}
