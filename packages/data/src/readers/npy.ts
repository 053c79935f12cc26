import { readFileSync } from 'node:fs';
import { UserError } from '@lw/core';

/** A minimal .npy reader: little-endian int/uint/float arrays of 1 or 2 dimensions, C or Fortran order. */
export interface NpyArray { shape: number[]; /** row-major */ data: Float64Array }

export function readNpy(file: string): NpyArray {
  const b = readFileSync(file);
  if (b.length < 10 || b[0] !== 0x93 || b.subarray(1, 6).toString('latin1') !== 'NUMPY') throw new UserError(`${file}: not a .npy file`, 'save it with numpy.save');
  const major = b[6];
  const headerLen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.subarray(start, start + headerLen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const kinds: Record<string, [number, (o: number) => number]> = {
    '<f8': [8, (o) => b.readDoubleLE(o)], '<f4': [4, (o) => b.readFloatLE(o)],
    '<i8': [8, (o) => Number(b.readBigInt64LE(o))], '<i4': [4, (o) => b.readInt32LE(o)], '<i2': [2, (o) => b.readInt16LE(o)],
    '<u8': [8, (o) => Number(b.readBigUInt64LE(o))], '<u4': [4, (o) => b.readUInt32LE(o)], '|u1': [1, (o) => b.readUInt8(o)], '|i1': [1, (o) => b.readInt8(o)],
  };
  const kind = descr ? kinds[descr] : undefined;
  if (!kind) throw new UserError(`${file}: unsupported .npy dtype ${descr}`, 'expected a little-endian integer or float array');
  const [size, read] = kind;
  const n = shape.reduce((a, c) => a * c, 1);
  const base = start + headerLen;
  if (base + n * size > b.length) throw new UserError(`${file}: holds fewer values than its shape (${shape.join('x')}) says`);
  const flat = Float64Array.from({ length: n }, (_, i) => read(base + i * size));
  if (!fortran || shape.length < 2) return { shape, data: flat };
  const [rows, cols] = shape;
  const data = new Float64Array(n);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = flat[c * rows + r];
  return { shape, data };
}
