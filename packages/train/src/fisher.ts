import { EPOCH_MEASURES_FILE, EpochMeasuresRow, epochMeasuresColumns, epochMeasuresIntColumns } from '@lw/core';
import { tf } from '@lw/models';
import { z } from 'zod';
import { writeEpochTable, type EpochTableFormat } from './epoch-tables.js';

/**
 * Empirical Fisher information of the trainable parameters (Achille, Rovere & Soatto 2019,
 * "Critical learning periods in deep networks"): its trace on a fixed probe batch, the mean over
 * the probe samples of ||∇θ loss(x_i, y_i)||², one backward pass per sample (tfjs has no per-sample
 * gradients in one pass). Checked against a float64 torch autograd reference
 * (packages/models/fixtures/zoo/fisher/reference.json).
 */
export const fisherParam = z.union([
  z.literal(false),
  z.object({ probe: z.number().int().min(1).describe('Probe samples: the first N training items in stored order') }).strict(),
]);
export type FisherParam = z.output<typeof fisherParam>;

export interface FisherTrace {
  /** Mean over samples of the squared gradient norm. */
  trace: number;
  /** [probe] the squared gradient norm of each sample. */
  perSample: number[];
}

/**
 * `sampleLoss(i)` builds the scalar loss of probe sample i from `variables` (inside a gradient
 * tape; its intermediates are freed here). Squares are summed in float64 on the host.
 */
export async function empiricalFisherTrace(
  variables: tf.Variable[], count: number, sampleLoss: (i: number) => tf.Scalar,
): Promise<FisherTrace> {
  const perSample: number[] = [];
  for (let i = 0; i < count; i++) {
    const { value, grads } = tf.variableGrads(() => sampleLoss(i), variables);
    const data = await Promise.all(Object.values(grads).map((g) => g.data()));
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
    let sq = 0;
    for (const d of data) for (let j = 0; j < d.length; j++) sq += d[j]! * d[j]!;
    perSample.push(sq);
  }
  return { trace: perSample.reduce((a, b) => a + b, 0) / count, perSample };
}

export const epochMeasuresFormat: EpochTableFormat<EpochMeasuresRow> = {
  stem: EPOCH_MEASURES_FILE, columns: epochMeasuresColumns, intColumns: epochMeasuresIntColumns, schema: EpochMeasuresRow,
};

export function writeEpochMeasures(dir: string, rows: EpochMeasuresRow[]): void {
  writeEpochTable(dir, epochMeasuresFormat, rows);
}
