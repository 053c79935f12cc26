import { inflateSync } from 'node:zlib';
import { UserError } from '../errors.js';

/**
 * A reader for numeric matrices in MATLAB level-5 MAT files (the format of the study's
 * RDM48_triplet.mat): 128-byte header, then data elements, each an 8-byte tag (type, byte count)
 * or a 4-byte "small element" tag, padded to 8 bytes; miCOMPRESSED elements hold one zlib-deflated
 * element. Numeric (and char) arrays are returned as float64 in row-major order; cells, structs,
 * objects and sparse arrays are listed but not decoded.
 */

export interface MatArray {
  name: string;
  className: string;
  /** MATLAB dimensions, e.g. [48, 48]. */
  dims: number[];
  /** Row-major values for 2-D arrays (MATLAB stores column-major; converted here); null when not numeric. */
  data: Float64Array | null;
}

const MI_INT8 = 1, MI_UINT8 = 2, MI_INT16 = 3, MI_UINT16 = 4, MI_INT32 = 5, MI_UINT32 = 6;
const MI_SINGLE = 7, MI_DOUBLE = 9, MI_INT64 = 12, MI_UINT64 = 13, MI_MATRIX = 14, MI_COMPRESSED = 15;
const MI_UTF8 = 16, MI_UTF16 = 17;

const CLASS_NAMES: Record<number, string> = {
  1: 'cell', 2: 'struct', 3: 'object', 4: 'char', 5: 'sparse', 6: 'double', 7: 'single', 8: 'int8',
  9: 'uint8', 10: 'int16', 11: 'uint16', 12: 'int32', 13: 'uint32', 14: 'int64', 15: 'uint64',
};
const NUMERIC_CLASSES = new Set([4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);

interface Element { type: number; body: DataView; next: number; }

class MatReader {
  constructor(private readonly view: DataView, private readonly le: boolean, private readonly source: string) {}

  fail(offset: number, what: string): never {
    throw new UserError(`${this.source}: byte ${offset}: ${what}`, 'expected a MATLAB level-5 MAT file (save -v7 or older, not -v7.3/HDF5)');
  }

  element(offset: number): Element {
    const v = this.view;
    // Small elements also take 8 bytes (tag + 4 data bytes), so fewer means a truncated file.
    if (offset + 8 > v.byteLength) this.fail(offset, 'truncated data element tag');
    const first = v.getUint32(offset, this.le);
    if (first >>> 16 !== 0) {
      // small data element: [nbytes:16 | type:16] then up to 4 bytes of data
      const type = first & 0xffff, nbytes = first >>> 16;
      return { type, body: new DataView(v.buffer, v.byteOffset + offset + 4, nbytes), next: offset + 8 };
    }
    const nbytes = v.getUint32(offset + 4, this.le);
    if (offset + 8 + nbytes > v.byteLength) this.fail(offset, `element of ${nbytes} bytes runs past the end of the file`);
    const body = new DataView(v.buffer, v.byteOffset + offset + 8, nbytes);
    // miCOMPRESSED is not padded; everything else is padded to 8 bytes.
    const next = first === MI_COMPRESSED ? offset + 8 + nbytes : offset + 8 + Math.ceil(nbytes / 8) * 8;
    return { type: first, body, next };
  }

  numbers(el: Element, offset: number): Float64Array {
    const b = el.body, le = this.le;
    const width: Record<number, number> = {
      [MI_INT8]: 1, [MI_UINT8]: 1, [MI_INT16]: 2, [MI_UINT16]: 2, [MI_INT32]: 4, [MI_UINT32]: 4,
      [MI_SINGLE]: 4, [MI_DOUBLE]: 8, [MI_INT64]: 8, [MI_UINT64]: 8, [MI_UTF8]: 1, [MI_UTF16]: 2,
    };
    const w = width[el.type];
    if (!w) this.fail(offset, `unsupported numeric data type ${el.type}`);
    const count = Math.floor(b.byteLength / w);
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const o = i * w;
      switch (el.type) {
        case MI_INT8: out[i] = b.getInt8(o); break;
        case MI_UINT8: case MI_UTF8: out[i] = b.getUint8(o); break;
        case MI_INT16: out[i] = b.getInt16(o, le); break;
        case MI_UINT16: case MI_UTF16: out[i] = b.getUint16(o, le); break;
        case MI_INT32: out[i] = b.getInt32(o, le); break;
        case MI_UINT32: out[i] = b.getUint32(o, le); break;
        case MI_SINGLE: out[i] = b.getFloat32(o, le); break;
        case MI_DOUBLE: out[i] = b.getFloat64(o, le); break;
        case MI_INT64: out[i] = Number(b.getBigInt64(o, le)); break;
        case MI_UINT64: out[i] = Number(b.getBigUint64(o, le)); break;
      }
    }
    return out;
  }

  /** Decodes one miMATRIX body: flags, dims, name, real part. */
  matrix(body: DataView, offset: number): MatArray {
    const sub = new MatReader(body, this.le, this.source);
    const flags = sub.element(0);
    const classId = flags.body.getUint32(0, this.le) & 0xff;
    const complex = (flags.body.getUint32(0, this.le) & 0x800) !== 0;
    const dimsEl = sub.element(flags.next);
    const dims = Array.from(sub.numbers(dimsEl, offset));
    const nameEl = sub.element(dimsEl.next);
    const name = new TextDecoder().decode(new Uint8Array(nameEl.body.buffer, nameEl.body.byteOffset, nameEl.body.byteLength));
    const className = CLASS_NAMES[classId] ?? `class ${classId}`;
    if (!NUMERIC_CLASSES.has(classId) || complex || dims.length !== 2) return { name, className: complex ? `complex ${className}` : className, dims, data: null };
    const columnMajor = sub.numbers(sub.element(nameEl.next), offset);
    const [rows, cols] = dims;
    if (columnMajor.length !== rows * cols) this.fail(offset, `variable ${name} has ${columnMajor.length} values for dims ${rows}x${cols}`);
    const data = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = columnMajor[c * rows + r];
    return { name, className, dims, data };
  }
}


function inflate(compressed: Uint8Array, reader: MatReader, offset: number): Buffer {
  try {
    return inflateSync(compressed);
  } catch (e) {
    return reader.fail(offset, `compressed element does not inflate (${(e as Error).message})`);
  }
}

/** Every top-level variable of a level-5 MAT file. */
export function readMat(bytes: Uint8Array, source = 'MAT file'): MatArray[] {
  if (bytes.byteLength < 128) throw new UserError(`${source}: ${bytes.byteLength} bytes is too short for a MAT file header (128 bytes)`);
  const header = new TextDecoder('latin1').decode(bytes.subarray(0, 116));
  const endian = String.fromCharCode(bytes[126], bytes[127]);
  if (!header.startsWith('MATLAB') || (endian !== 'IM' && endian !== 'MI')) {
    throw new UserError(`${source}: not a MATLAB level-5 MAT file (header "${header.slice(0, 20)}", endian mark "${endian}")`,
      'save it from MATLAB with -v7 or -v6, or from scipy.io.savemat');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = new MatReader(view, endian === 'IM', source);
  const out: MatArray[] = [];
  for (let offset = 128; offset < bytes.byteLength; ) {
    const el = reader.element(offset);
    if (el.type === MI_COMPRESSED) {
      const inflated = inflate(new Uint8Array(el.body.buffer, el.body.byteOffset, el.body.byteLength), reader, offset);
      const inner = new MatReader(new DataView(inflated.buffer, inflated.byteOffset, inflated.byteLength), endian === 'IM', source);
      const innerEl = inner.element(0);
      if (innerEl.type === MI_MATRIX) out.push(inner.matrix(innerEl.body, offset));
    } else if (el.type === MI_MATRIX) {
      out.push(reader.matrix(el.body, offset));
    }
    offset = el.next;
  }
  return out;
}
