import { readFileSync, writeFileSync } from 'node:fs';
import { UserError, sha256 } from '@lw/core';
import { Field, FixedSizeList, Float64, Table, Utf8, makeData, makeVector, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';

/**
 * `human_rdm.arrow`: n rows, `id` utf8 (stimulus id in RDM order) and `rdm` FixedSizeList<Float64>[n]
 * (row i of the dissimilarity matrix). The matrix is kept as given: no re-symmetrising.
 */
export interface HumanRdm {
  ids: string[];
  n: number;
  /** [n, n] row-major, float64. */
  values: Float64Array;
}

/** Checks the things every consumer assumes; `source` names the file in the error. */
export function validateRdm(rdm: HumanRdm, source: string): void {
  const { n, values, ids } = rdm;
  if (values.length !== n * n) throw new UserError(`${source}: RDM has ${values.length} values, not ${n}x${n}`, 'the RDM must be a square matrix');
  if (ids.length !== n) throw new UserError(`${source}: ${ids.length} stimulus ids for a ${n}x${n} RDM`);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = values[i * n + j];
      if (!Number.isFinite(v)) throw new UserError(`${source}: RDM entry (${i + 1}, ${j + 1}) (${ids[i]}, ${ids[j]}) is ${v}`, 'dissimilarities must be finite numbers');
      if (j > i && Math.abs(v - values[j * n + i]) > 1e-9 * Math.max(1, Math.abs(v))) {
        throw new UserError(`${source}: RDM is not symmetric at (${i + 1}, ${j + 1}) (${ids[i]} vs ${ids[j]}): ${v} != ${values[j * n + i]}`, 'a dissimilarity matrix must equal its transpose');
      }
    }
    if (Math.abs(values[i * n + i]) > 1e-12) throw new UserError(`${source}: RDM diagonal entry ${i + 1} (${ids[i]}) is ${values[i * n + i]}, not 0`);
  }
}

export function humanRdmTable(rdm: HumanRdm): Table {
  const { n, values, ids } = rdm;
  const child = makeData({ type: new Float64(), length: n * n, nullCount: 0, data: values });
  const rows = makeData({ type: new FixedSizeList(n, new Field('item', new Float64(), false)), length: n, nullCount: 0, child });
  return new Table({ id: vectorFromArray(ids, new Utf8()), rdm: makeVector(rows) });
}

export function writeHumanRdm(file: string, rdm: HumanRdm): { sha256: string } {
  const bytes = tableToIPC(humanRdmTable(rdm), 'file');
  writeFileSync(file, bytes);
  return { sha256: sha256(bytes) };
}

export function readHumanRdm(file: string): HumanRdm {
  const table = tableFromIPC(readFileSync(file));
  const ids = table.getChild('id')?.toArray() as string[] | undefined;
  const col = table.getChild('rdm');
  if (!ids || !col || !(col.type instanceof FixedSizeList)) throw new UserError(`${file}: expected columns id (utf8) and rdm (FixedSizeList<Float64>)`);
  const n = table.numRows;
  if (col.type.listSize !== n) throw new UserError(`${file}: rdm rows have ${col.type.listSize} entries for ${n} rows`, 'the RDM must be square');
  const values = new Float64Array(n * n);
  let o = 0;
  for (const d of col.data) {
    const child = d.children[0];
    const part = (child.values as Float64Array).subarray(child.offset + d.offset * n, child.offset + (d.offset + d.length) * n);
    values.set(part, o);
    o += part.length;
  }
  return { ids: [...ids], n, values };
}
