import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { UserError } from '@lw/core';

/**
 * A minimal MATLAB level-5 MAT-file reader: numeric matrices (any stored integer or float type,
 * converted to float64), optionally inside miCOMPRESSED (zlib) elements. Enough for RDM48_triplet.mat;
 * char arrays, cells and structs are skipped. Little- and big-endian files are read.
 */

export interface MatMatrix { name: string; dims: number[]; /** column-major, as MATLAB stores it */ data: Float64Array }

const MI = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, INT64: 12, UINT64: 13, MATRIX: 14, COMPRESSED: 15 } as const;
/** mxClass ids of numeric arrays (double, single, int8 .. uint64). */
const NUMERIC_CLASSES = new Set([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);

interface Element { type: number; body: DataView; next: number }

function readElement(view: DataView, at: number, le: boolean, source: string): Element {
  const word = view.getUint32(at, le);
  if (word >>> 16 !== 0) {
    // small data element: type and size packed into the first word, data in the next 4 bytes
    const n = word >>> 16;
    return { type: word & 0xffff, body: new DataView(view.buffer, view.byteOffset + at + 4, n), next: at + 8 };
  }
  const n = view.getUint32(at + 4, le);
  if (at + 8 + n > view.byteLength) throw new UserError(`${source}: truncated MAT element at byte ${at}`);
  const padded = word === MI.COMPRESSED ? n : Math.ceil(n / 8) * 8;
  return { type: word, body: new DataView(view.buffer, view.byteOffset + at + 8, n), next: at + 8 + padded };
}

function numbers(el: Element, le: boolean, source: string): Float64Array {
  const v = el.body;
  const get: Record<number, [number, (o: number) => number]> = {
    [MI.INT8]: [1, (o) => v.getInt8(o)], [MI.UINT8]: [1, (o) => v.getUint8(o)],
    [MI.INT16]: [2, (o) => v.getInt16(o, le)], [MI.UINT16]: [2, (o) => v.getUint16(o, le)],
    [MI.INT32]: [4, (o) => v.getInt32(o, le)], [MI.UINT32]: [4, (o) => v.getUint32(o, le)],
    [MI.SINGLE]: [4, (o) => v.getFloat32(o, le)], [MI.DOUBLE]: [8, (o) => v.getFloat64(o, le)],
    [MI.INT64]: [8, (o) => Number(v.getBigInt64(o, le))], [MI.UINT64]: [8, (o) => Number(v.getBigUint64(o, le))],
  };
  const g = get[el.type];
  if (!g) throw new UserError(`${source}: unsupported MAT data type ${el.type}`);
  const [size, read] = g;
  return Float64Array.from({ length: v.byteLength / size }, (_, i) => read(i * size));
}

function readMatrix(el: Element, le: boolean, source: string): MatMatrix | undefined {
  const v = el.body;
  const flags = readElement(v, 0, le, source);
  const cls = flags.body.getUint32(0, le) & 0xff;
  const complex = (flags.body.getUint32(0, le) >>> 11) & 1;
  const dimsEl = readElement(v, flags.next, le, source);
  const dims = Array.from(numbers(dimsEl, le, source));
  const nameEl = readElement(v, dimsEl.next, le, source);
  const name = new TextDecoder('latin1').decode(new Uint8Array(nameEl.body.buffer, nameEl.body.byteOffset, nameEl.body.byteLength));
  if (!NUMERIC_CLASSES.has(cls) || complex) return undefined;
  const real = readElement(v, nameEl.next, le, source);
  const data = numbers(real, le, source);
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new UserError(`${source}: variable "${name}" has ${data.length} values for dimensions ${dims.join('x')}`);
  return { name, dims, data };
}

export function readMat5(file: string): MatMatrix[] {
  const bytes = readFileSync(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = bytes.subarray(0, 10).toString('latin1');
  if (bytes.length < 128 || !text.startsWith('MATLAB 5.0')) {
    throw new UserError(`${file}: not a MATLAB 5.0 MAT-file`, 'save it with MATLAB `save -v7` (or -v6), or give the RDM as .npy, .csv or .arrow');
  }
  const endian = bytes.subarray(126, 128).toString('latin1');
  const le = endian === 'IM';
  const out: MatMatrix[] = [];
  const walk = (v: DataView, start: number) => {
    for (let at = start; at + 8 <= v.byteLength;) {
      const el = readElement(v, at, le, file);
      if (el.type === MI.COMPRESSED) {
        const inner = inflateSync(new Uint8Array(el.body.buffer, el.body.byteOffset, el.body.byteLength));
        walk(new DataView(inner.buffer, inner.byteOffset, inner.byteLength), 0);
      } else if (el.type === MI.MATRIX) {
        const m = readMatrix(el, le, file);
        if (m) out.push(m);
      }
      at = el.next;
    }
  };
  walk(view, 128);
  return out;
}

/** Row-major [rows, cols] of a 2-D column-major MAT matrix. */
export function toRowMajor(m: MatMatrix): { rows: number; cols: number; values: Float64Array } {
  if (m.dims.length !== 2) throw new UserError(`variable "${m.name}" has ${m.dims.length} dimensions, expected a 2-D matrix`);
  const [rows, cols] = m.dims;
  const values = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) values[r * cols + c] = m.data[c * rows + r];
  return { rows, cols, values };
}
