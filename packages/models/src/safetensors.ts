import { closeSync, fsyncSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { UserError } from '@lw/core';
import { z } from 'zod';

/**
 * safetensors (https://github.com/huggingface/safetensors): 8-byte little-endian header length N,
 * N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}}`,
 * then the raw little-endian tensor bytes (offsets relative to the end of the header).
 *
 * The reader keeps the file open and reads each tensor's bytes on demand into its own buffer, so a
 * 1.7 GB checkpoint never needs twice its size in memory.
 */

export const DTYPES = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 } as const;
export type Dtype = keyof typeof DTYPES;

const TensorEntry = z.object({
  dtype: z.enum(Object.keys(DTYPES) as [Dtype, ...Dtype[]]),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});
export type TensorEntry = z.infer<typeof TensorEntry>;

export type TypedArray = Float64Array | Float32Array | Uint16Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

export interface TensorData {
  dtype: Dtype;
  shape: number[];
  /** Row-major values; F16 and BF16 as their raw Uint16 bits, I64 as BigInt64Array. */
  data: TypedArray;
}

const MAX_HEADER = 100 * 1024 * 1024;

export class SafetensorsFile {
  private fd: number | null;
  readonly entries = new Map<string, TensorEntry>();
  readonly metadata: Record<string, string>;
  private readonly dataStart: number;

  constructor(readonly path: string) {
    let size: number;
    try {
      size = statSync(path).size;
    } catch (e) {
      throw new UserError(`cannot read ${path}: ${(e as Error).message}`, 'give the path of a .safetensors file', { cause: e });
    }
    const fd = openSync(path, 'r');
    this.fd = fd;
    try {
      const head = Buffer.alloc(8);
      if (size < 8 || readSync(fd, head, 0, 8, 0) !== 8) throw this.bad('file shorter than its 8-byte header length');
      const n = Number(head.readBigUInt64LE(0));
      if (n > MAX_HEADER || 8 + n > size) throw this.bad(`header length ${n} does not fit in the file (${size} bytes)`);
      const json = Buffer.alloc(n);
      readSync(fd, json, 0, n, 8);
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(json.toString('utf8')) as Record<string, unknown>;
      } catch (e) {
        throw this.bad(`header is not JSON (${(e as Error).message})`);
      }
      this.dataStart = 8 + n;
      const meta = parsed.__metadata__;
      this.metadata = meta && typeof meta === 'object' ? (meta as Record<string, string>) : {};
      for (const [name, raw] of Object.entries(parsed)) {
        if (name === '__metadata__') continue;
        const r = TensorEntry.safeParse(raw);
        if (!r.success) throw this.bad(`tensor "${name}": ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        const e = r.data;
        const expected = e.shape.reduce((a, b) => a * b, 1) * DTYPES[e.dtype];
        if (e.data_offsets[1] - e.data_offsets[0] !== expected) {
          throw this.bad(`tensor "${name}" has ${e.data_offsets[1] - e.data_offsets[0]} bytes, but ${e.dtype}${JSON.stringify(e.shape)} needs ${expected}`);
        }
        if (this.dataStart + e.data_offsets[1] > size) throw this.bad(`tensor "${name}" ends past the end of the file`);
        this.entries.set(name, e);
      }
    } catch (e) {
      closeSync(fd);
      this.fd = null;
      throw e;
    }
  }

  private bad(what: string): UserError {
    return new UserError(`${this.path} is not a valid safetensors file: ${what}`, 'write it with safetensors (save_file) or writeSafetensors');
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** The raw tensor (its own buffer), read from disk now. */
  read(name: string): TensorData {
    const e = this.entries.get(name);
    if (!e) throw new UserError(`${this.path} has no tensor "${name}"`);
    if (this.fd === null) throw new Error(`SafetensorsFile ${this.path} is closed`);
    const bytes = e.data_offsets[1] - e.data_offsets[0];
    const buf = new ArrayBuffer(bytes);
    let done = 0;
    while (done < bytes) {
      const got = readSync(this.fd, new Uint8Array(buf, done), 0, bytes - done, this.dataStart + e.data_offsets[0] + done);
      if (got === 0) throw this.bad(`tensor "${name}" is truncated`);
      done += got;
    }
    return { dtype: e.dtype, shape: e.shape, data: view(e.dtype, buf) };
  }

  /** The tensor as float32 (F16, BF16, F64 converted). */
  readFloat32(name: string): Float32Array {
    return toFloat32(this.read(name));
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function view(dtype: Dtype, buf: ArrayBuffer): TypedArray {
  switch (dtype) {
    case 'F64': return new Float64Array(buf);
    case 'F32': return new Float32Array(buf);
    case 'F16': case 'BF16': return new Uint16Array(buf);
    case 'I64': return new BigInt64Array(buf);
    case 'I32': return new Int32Array(buf);
    case 'I16': return new Int16Array(buf);
    case 'I8': return new Int8Array(buf);
    case 'U8': case 'BOOL': return new Uint8Array(buf);
  }
}

/** IEEE half -> float. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

export function toFloat32(t: TensorData): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  const n = t.data.length, out = new Float32Array(n);
  if (t.dtype === 'F16') for (let i = 0; i < n; i++) out[i] = halfToFloat((t.data as Uint16Array)[i]);
  else if (t.dtype === 'BF16') {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = (t.data as Uint16Array)[i] << 16;
  } else if (t.data instanceof BigInt64Array) for (let i = 0; i < n; i++) out[i] = Number(t.data[i]);
  else for (let i = 0; i < n; i++) out[i] = Number(t.data[i]);
  return out;
}

export function readSafetensors(path: string): SafetensorsFile {
  return new SafetensorsFile(path);
}

/**
 * Writes tensors in the order given, atomically (a temporary file in the same directory, then rename).
 * `data` must match `dtype` (F16/BF16 as Uint16Array bits, I64 as BigInt64Array) and `shape`.
 */
export function writeSafetensors(path: string, tensors: Record<string, TensorData>, metadata?: Record<string, string>): void {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new Error(`writeSafetensors: "${name}" has ${t.data.length} values for shape ${JSON.stringify(t.shape)}`);
    const bytes = n * DTYPES[t.dtype];
    if (t.data.byteLength !== bytes) throw new Error(`writeSafetensors: "${name}" data is not ${t.dtype}`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  // Pad the header with spaces so that tensor data starts 8-byte aligned, as the reference writer does.
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));

  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fd = openSync(tmp, 'w');
  try {
    writeAll(fd, len);
    writeAll(fd, json);
    for (const t of Object.values(tensors)) writeAll(fd, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    fsyncSync(fd);
    closeSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  renameSync(tmp, path);
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done);
}
