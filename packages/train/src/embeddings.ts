import { Field, FixedSizeList, Float32, Table, Utf8, makeData, makeVector, tableToIPC, vectorFromArray } from 'apache-arrow';
import { writeFileAtomic } from './files.js';

/**
 * `embeddings/epoch{N}.arrow`: a model's features of the RSA test images at one epoch, rows in RDM
 * order; columns `id` (utf8) and `features` (FixedSizeList<Float32>[d]). @lw/eval's `eval/rsa` reads them.
 */
export function writeEmbeddings(path: string, ids: string[], features: Float32Array, d: number): void {
  const n = ids.length;
  if (features.length !== n * d) throw new Error(`embeddings: ${features.length} values for ${n} ids x ${d} dims`);
  const child = makeData({ type: new Float32(), length: n * d, nullCount: 0, data: features });
  const list = makeData({ type: new FixedSizeList(d, new Field('item', new Float32(), false)), length: n, nullCount: 0, child });
  const table = new Table({ id: vectorFromArray(ids, new Utf8()), features: makeVector(list) });
  writeFileAtomic(path, tableToIPC(table, 'file'));
}
