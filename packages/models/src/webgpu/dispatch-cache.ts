/**
 * Host time per dispatch in tfjs-webgpu, measured through dawn.node on the H200 machine
 * (`bench/model-step/gpu.mjs --native`, 2026-12-04): createBindGroup 19 us, the uniform buffer's
 * writeBuffer 6.5 us, getBindGroupLayout 3 us, the pass commands 5 us. A training step dispatches ~300
 * kernels, so this is ~10 ms a step, about as much as its GEMMs leave to everything else. In a training
 * loop the same kernels run with the same uniforms (shapes) step after step, on buffers that tfjs'
 * pool hands back in the same order (it is a stack per size), so these are cached here:
 *
 * - uniform buffers by content, from a content's second use on: written once, never returned to the
 *   pool (tfjs acquires one per dispatch, writes it and releases it after the submit, scanning its used
 *   list to do so). Contents that do not recur (AdamW's bias corrections change every step) keep
 *   tfjs' path, so the cache holds one buffer per recurring shape, not one per step;
 * - each pipeline's bind group layout (tfjs asks the pipeline for it at every dispatch);
 * - bind groups by layout and buffers (immutable, so reusable across submits; a buffer tfjs destroys
 *   is never looked up again: keys name buffer objects, and a new buffer is a new object). For them to
 *   recur, tfjs' pool must hand each step the buffers it handed the last: it is a stack per size, and
 *   the order in which a step frees its buffers permutes that stack from step to step (19% of a step's
 *   bind groups recurred on lavapipe). So the pool's free lists are kept sorted by a fixed id per buffer,
 *   lowest handed out first: then which buffer an allocation gets depends only on which are free, and a
 *   step repeats the last but one (the weights and moments alternate between two sets of buffers).
 *
 * Kernels whose uniforms change every step (LwAdamW's bias corrections) run under `withoutUniformCache`.
 * Each cache is bounded: past the bound it starts over, dropping its entries without destroying them
 * (commands in flight may still use them; Dawn frees what nothing references).
 */
const MAX_ENTRIES = 16384;

interface Buffer { size: number; usage: number; destroy(): void }
interface Pipeline { getBindGroupLayout(i: number): object }
interface Device {
  createBuffer(d: { size: number; usage: number }): Buffer;
  createBindGroup(d: { layout: object; entries: { binding: number; resource: { buffer?: Buffer; offset?: number; size?: number } }[] }): object;
  createComputePipeline(d: object): Pipeline;
  createComputePipelineAsync(d: object): Promise<Pipeline>;
  queue: { writeBuffer(b: Buffer, offset: number, data: ArrayBuffer, dataOffset: number, size: number): void };
}
type Uniform = { type: string; data: number[] };
interface BufferManager {
  freeBuffers: Map<string, Buffer[]>;
  releaseBuffer(b: Buffer, reuse?: boolean): void;
}
interface Backend {
  device: Device;
  bufferManager: BufferManager;
  makeUniforms(u: Uniform[]): { offset: number; size: number; buffer: Buffer };
}

const stats = { uniformHits: 0, uniformMisses: 0, bindGroupHits: 0, bindGroupMisses: 0 };
let enabled = true;
let bypass = 0;
const installed = new WeakSet<object>();

/** Runs `f` with tfjs' own uniform buffers: for kernels whose uniforms differ at every step. */
export function withoutUniformCache<T>(f: () => T): T {
  bypass++;
  try { return f(); } finally { bypass--; }
}

/** Turns the caches on or off (off: tfjs' own path for every dispatch), for before/after benchmarks. */
export function setDispatchCacheEnabled(on: boolean): void {
  enabled = on;
}

/** Hits and misses since the start of the process, and how many uniform buffers and bind groups are held now. */
export function dispatchCacheStats(): typeof stats & { uniformBuffers: number; bindGroups: number } {
  return { ...stats, uniformBuffers: sizes.uniformBuffers(), bindGroups: sizes.bindGroups() };
}
const sizes = { uniformBuffers: () => 0, bindGroups: () => 0 };

/** The uniform block's bytes as tfjs-webgpu 4.22 lays them out (makeUniforms: WGSL alignment of scalars and vectors). */
function uniformBytes(uniforms: Uniform[]): ArrayBuffer {
  let offset = 0, previous = 0, maxAlign = 1;
  const offsets: number[] = [];
  for (const u of uniforms) {
    if (u.data.length === 0) u.data = [1];
    let align = u.data.length === 1 ? 4 : u.data.length === 2 ? 8 : 16;
    if (previous === 5 || previous === 6) align = 16;
    maxAlign = Math.max(maxAlign, align);
    offset = Math.ceil(offset / align) * align;
    previous = u.data.length;
    offsets.push(offset);
    offset += u.data.length * 4;
  }
  const bytes = new ArrayBuffer(Math.ceil(offset / maxAlign) * maxAlign);
  uniforms.forEach((u, i) => {
    const View = u.type === 'int32' ? Int32Array : u.type === 'uint32' ? Uint32Array : Float32Array;
    new View(bytes, offsets[i], u.data.length).set(u.data);
  });
  return bytes;
}

/** Installs the caches on a tfjs-webgpu backend (idempotent). */
export function installDispatchCache(backendObject: unknown): void {
  const backend = backendObject as Backend, device = backend.device;
  if (installed.has(device)) return;
  installed.add(device);

  const ids = new WeakMap<object, number>();
  let nextId = 1;
  const idOf = (o: object) => { let i = ids.get(o); if (i === undefined) ids.set(o, i = nextId++); return i; };

  let uniformBuffers = new Map<string, Buffer>();
  const seenOnce = new Set<string>();
  let bindGroups = new Map<string, object>();
  const makeUniforms = backend.makeUniforms.bind(backend);
  backend.makeUniforms = (uniforms) => {
    if (!enabled || bypass > 0) return makeUniforms(uniforms);
    if (uniformBuffers.size >= MAX_ENTRIES) { uniformBuffers = new Map(); bindGroups = new Map(); } // bind groups name the dropped buffers
    const bytes = uniformBytes(uniforms);
    const key = new Int32Array(bytes).join(',');
    let buffer = uniformBuffers.get(key);
    if (buffer) {
      stats.uniformHits++;
      return { offset: 0, size: bytes.byteLength, buffer };
    }
    stats.uniformMisses++;
    if (!seenOnce.has(key)) {
      if (seenOnce.size >= MAX_ENTRIES) seenOnce.clear();
      seenOnce.add(key);
      return makeUniforms(uniforms);
    }
    seenOnce.delete(key);
    buffer = device.createBuffer({ size: bytes.byteLength, usage: 0x40 | 0x8 }); // UNIFORM | COPY_DST
    device.queue.writeBuffer(buffer, 0, bytes, 0, bytes.byteLength);
    uniformBuffers.set(key, buffer);
    return { offset: 0, size: bytes.byteLength, buffer };
  };

  const memoLayouts = (p: Pipeline): Pipeline => {
    const layouts: object[] = [];
    const get = p.getBindGroupLayout.bind(p);
    p.getBindGroupLayout = (i: number) => (enabled ? (layouts[i] ??= get(i)) : get(i));
    return p;
  };
  const createPipeline = device.createComputePipeline.bind(device);
  const createPipelineAsync = device.createComputePipelineAsync.bind(device);
  device.createComputePipeline = (d) => memoLayouts(createPipeline(d));
  device.createComputePipelineAsync = async (d) => memoLayouts(await createPipelineAsync(d));

  // Free lists sorted by id, descending (tfjs pops the last): the released buffer moves to its place.
  const manager = backend.bufferManager;
  const release = manager.releaseBuffer.bind(manager);
  manager.releaseBuffer = (buffer, reuse = true) => {
    release(buffer, reuse);
    const free = manager.freeBuffers.get(`${buffer.size}_${buffer.usage}`); // tfjs-webgpu 4.22's getBufferKey
    if (!enabled || !reuse || !free || free[free.length - 1] !== buffer) return;
    const id = idOf(buffer);
    let i = free.length - 1;
    for (; i > 0 && idOf(free[i - 1]) < id; i--) free[i] = free[i - 1];
    free[i] = buffer;
  };

  sizes.uniformBuffers = () => uniformBuffers.size;
  sizes.bindGroups = () => bindGroups.size;
  const createBindGroup = device.createBindGroup.bind(device);
  device.createBindGroup = (d) => {
    if (!enabled || !d.entries.every((e) => e.resource.buffer)) return createBindGroup(d);
    let key = `${idOf(d.layout)}`;
    for (const e of d.entries) key += `|${e.binding}:${idOf(e.resource.buffer!)}:${e.resource.offset ?? 0}:${e.resource.size ?? -1}`;
    let group = bindGroups.get(key);
    if (group) { stats.bindGroupHits++; return group; }
    stats.bindGroupMisses++;
    if (bindGroups.size >= MAX_ENTRIES) bindGroups = new Map();
    group = createBindGroup(d);
    bindGroups.set(key, group);
    return group;
  };
}
