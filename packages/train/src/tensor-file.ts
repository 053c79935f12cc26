import { readFileSync } from 'node:fs';
import { UserError } from '@lw/core';
import { writeFileAtomic } from './files.js';

/**
 * Training's own files in the safetensors format (an 8-byte little-endian header length, a JSON
 * header `{name: {dtype, shape, data_offsets}, __metadata__: {string: string}}`, then the raw
 * little-endian bytes), restricted to what training writes: F32 and F16. PyTorch's `safetensors`
 * and any reader of the format load them.
 */
export type TensorDtype = 'F32' | 'F16';

export interface NamedTensor {
  dtype: TensorDtype;
  shape: number[];
  /** F32: the values; F16: raw IEEE half bits. */
  data: Float32Array | Uint16Array;
}

const BYTES: Record<TensorDtype, number> = { F32: 4, F16: 2 };

export function encodeTensorFile(tensors: Map<string, NamedTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`tensor ${name}: shape [${t.shape}] holds ${n} values, data has ${t.data.length}`);
    const bytes = n * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  // The header is padded with spaces to a multiple of 8 bytes, as the reference writer does.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(raw, pos);
    pos += raw.length;
  }
  return out;
}

export function writeTensorFile(path: string, tensors: Map<string, NamedTensor>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeTensorFile(tensors, metadata));
}

interface HeaderEntry { dtype: string; shape: number[]; data_offsets: [number, number] }

export interface TensorFile {
  metadata: Record<string, string>;
  tensors: Map<string, NamedTensor>;
}

/** Reads a whole safetensors file of F32/F16 tensors (training's checkpoints and feature shards). */
export function readTensorFile(path: string): TensorFile {
  const bytes = readFileSync(path);
  if (bytes.length < 8) throw new UserError(`${path}: too short to be a safetensors file`);
  const headerLen = Number(bytes.readBigUInt64LE(0));
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8'));
  } catch (e) {
    throw new UserError(`${path}: unreadable safetensors header (${(e as Error).message})`);
  }
  const base = 8 + headerLen;
  const tensors = new Map<string, NamedTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: [begin, end] } = entry as HeaderEntry;
    if (dtype !== 'F32' && dtype !== 'F16') throw new UserError(`${path}: tensor ${name} has dtype ${dtype}`, 'training files hold F32 or F16 tensors only');
    // Copy into an aligned buffer of its own: offsets in the file need not be multiples of 4.
    const raw = new Uint8Array(bytes.subarray(base + begin, base + end));
    const data = dtype === 'F32' ? new Float32Array(raw.buffer) : new Uint16Array(raw.buffer);
    tensors.set(name, { dtype, shape, data });
  }
  return { metadata: (header.__metadata__ as Record<string, string>) ?? {}, tensors };
}

