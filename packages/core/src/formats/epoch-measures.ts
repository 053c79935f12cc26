import { z } from 'zod';

/**
 * Per-epoch measures a training task may write beside its metrics (which keep the study's layout):
 * - `layer_rsa.csv` / `layer_rsa.arrow`: RSA of each chosen block's pooled features, and of the
 *   model's final output (the features of metrics' RSA column), every epoch;
 * - `epoch_measures.csv` / `epoch_measures.arrow`: the empirical Fisher trace of the trainable
 *   parameters on a fixed probe batch, every epoch.
 * Defined here once for the writer (@lw/train) and the reader (@lw/analysis).
 */

/** RSA values may be NaN (a constant feature row has no correlation distance). */
const rsaNumber = z.union([z.number(), z.nan()]);

export const LAYER_RSA_FILE = 'layer_rsa';
export const layerRsaColumns = ['epoch', 'layer', 'layer_name', 'rsa_rho', 'rsa_p_value'] as const;
/** Integer columns (Arrow Int32); the rest are Float64 or, for names, Utf8. */
export const layerRsaIntColumns = ['epoch', 'layer'] as const;
export const LayerRsaRow = z.object({
  epoch: z.number().int().min(1),
  /** 0-based image-tower block index; the final output is the layer after the last block. */
  layer: z.number().int().min(0),
  /** `block{k}` or `output`. */
  layer_name: z.string().min(1),
  rsa_rho: rsaNumber,
  rsa_p_value: rsaNumber,
});
export type LayerRsaRow = z.infer<typeof LayerRsaRow>;

export const EPOCH_MEASURES_FILE = 'epoch_measures';
export const epochMeasuresColumns = ['epoch', 'fisher_trace', 'fisher_probe'] as const;
export const epochMeasuresIntColumns = ['epoch', 'fisher_probe'] as const;
export const EpochMeasuresRow = z.object({
  epoch: z.number().int().min(1),
  /** Mean over the probe samples of the squared norm of the per-sample loss gradient (Achille et al. 2019). */
  fisher_trace: z.number().min(0),
  /** Number of probe samples (the first N training items in stored order). */
  fisher_probe: z.number().int().min(1),
});
export type EpochMeasuresRow = z.infer<typeof EpochMeasuresRow>;
