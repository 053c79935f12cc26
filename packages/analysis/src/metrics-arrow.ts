import { readFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import { UserError, perturbationFlagColumns } from '@lw/core';
import type { EpochRow, MetricsTable } from './metrics.js';

/**
 * Reads our `metrics.arrow` (same column names as metrics.csv; flags as bool or "True"/"False").
 * Accepts the behaviour layout (test_loss, behavioral_rsa_rho) and the classify layout (val_loss, rsa_rho).
 */
export function readMetricsArrow(file: string): MetricsTable {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new UserError(`${file}: cannot read metrics (${(e as NodeJS.ErrnoException).code ?? String(e)})`, 'check the path', { cause: e });
  }
  const table = tableFromIPC(bytes);
  const column = (...names: string[]) => {
    for (const name of names) {
      const c = table.getChild(name);
      if (c) return c;
    }
    return null;
  };
  const need = (...names: string[]) => {
    const c = column(...names);
    if (!c) throw new UserError(`${file}: no column ${names.join(' or ')}`, `columns present: ${table.schema.fields.map((f) => f.name).join(', ')}`);
    return c;
  };
  const epoch = need('epoch');
  const train = need('train_loss');
  const test = need('test_loss', 'val_loss');
  const rho = need('behavioral_rsa_rho', 'rsa_rho');
  const p = column('behavioral_rsa_p_value', 'rsa_p_value');
  const flags = perturbationFlagColumns.map(([name, type]) => [column(name), type] as const);
  const rows: EpochRow[] = [];
  for (let i = 0; i < table.numRows; i++) {
    let perturbed: EpochRow['perturbed'] = null;
    for (const [c, type] of flags) {
      const v: unknown = c?.get(i);
      if (v === true || v === 'True') perturbed = type;
    }
    const values = [epoch.get(i), train.get(i), test.get(i), rho.get(i)].map(Number);
    if (values.some((v) => !Number.isFinite(v))) {
      throw new UserError(`${file}: row ${i} has a missing or non-numeric metric`, 'epoch, losses and rho must be numbers');
    }
    const pv = p?.get(i);
    rows.push({ epoch: values[0]!, train_loss: values[1]!, test_loss: values[2]!, rsa: values[3]!, rsa_p: pv == null ? null : Number(pv), perturbed });
  }
  if (rows.length === 0) throw new UserError(`${file}: no data rows`, 'a run needs at least one epoch');
  return { file, rows };
}
