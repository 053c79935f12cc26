import { UserError } from '../errors.js';

/**
 * A reader for NumPy .npy arrays (format versions 1-3) of floats or integers, C or Fortran order,
 * either endianness. Values come back as float64 in C (row-major) order with their shape.
 */

export interface NpyArray { shape: number[]; data: Float64Array; }

const HINT = 'expected a .npy file written by numpy.save with a numeric dtype such as <f8 or <f4';

export function readNpy(bytes: Uint8Array, source = '.npy file'): NpyArray {
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== 'NUMPY') throw new UserError(`${source}: not a .npy file (no \\x93NUMPY magic)`, HINT);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1] === 'True';
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new UserError(`${source}: unreadable .npy header ${JSON.stringify(header.trim())}`, HINT);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const m = /^([<>|=])([fiu])(\d)$/.exec(descr);
  if (!m) throw new UserError(`${source}: dtype ${descr} is not a plain number type`, HINT);
  const le = m[1] !== '>';
  const kind = m[2], width = Number(m[3]);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLen;
  if (bytes.byteLength - dataStart < count * width) {
    throw new UserError(`${source}: shape (${shape.join(', ')}) needs ${count * width} data bytes, file has ${bytes.byteLength - dataStart}`, HINT);
  }
  const read = (i: number): number => {
    const o = dataStart + i * width;
    if (kind === 'f') {
      if (width === 8) return view.getFloat64(o, le);
      if (width === 4) return view.getFloat32(o, le);
    } else if (kind === 'i') {
      if (width === 8) return Number(view.getBigInt64(o, le));
      if (width === 4) return view.getInt32(o, le);
      if (width === 2) return view.getInt16(o, le);
      if (width === 1) return view.getInt8(o);
    } else {
      if (width === 8) return Number(view.getBigUint64(o, le));
      if (width === 4) return view.getUint32(o, le);
      if (width === 2) return view.getUint16(o, le);
      if (width === 1) return view.getUint8(o);
    }
    throw new UserError(`${source}: dtype ${descr} is not supported`, HINT);
  };
  const data = new Float64Array(count);
  if (!fortran || shape.length < 2) {
    for (let i = 0; i < count; i++) data[i] = read(i);
  } else {
    // Fortran order: the first index varies fastest. Convert each flat position to C order.
    const cStrides = shape.map((_, k) => shape.slice(k + 1).reduce((a, b) => a * b, 1));
    const index = new Array<number>(shape.length).fill(0);
    for (let f = 0; f < count; f++) {
      let c = 0;
      for (let k = 0; k < shape.length; k++) c += index[k] * cStrides[k];
      data[c] = read(f);
      for (let k = 0; k < shape.length; k++) {
        if (++index[k] < shape[k]) break;
        index[k] = 0;
      }
    }
  }
  return { shape, data };
}
