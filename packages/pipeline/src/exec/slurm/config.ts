import { z } from 'zod';

/**
 * The `executor:` section of a pipeline file for Slurm, and the per-stage resources in it.
 * Every key becomes one sbatch flag (see `sbatch.ts`); a key left out leaves the cluster's default.
 *
 * ```yaml
 * executor:
 *   type: slurm
 *   resources: { partition: gpu, account: lab, time: "4:00:00", mem: 16G }   # every task
 * stages:
 *   sweep:
 *     uses: train/behavior
 *     resources: { gpus: 1, cpus: 4, arrayLimit: 20 }                        # this stage's tasks
 * ```
 */

// Slurm's --time forms: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S (sbatch(1) "-t, --time").
const TIME = /^(\d+(:\d{1,2}){0,2}|\d+-\d+(:\d{1,2}){0,2}|UNLIMITED|INFINITE)$/;
// --mem: a number with an optional unit suffix K, M, G or T (megabytes without one).
const MEM = /^\d+[KMGT]?$/;
// Names Slurm takes for partitions, accounts, QOS and GRES types: no blanks or control characters.
const NAME = /^[^\s\0-\x1f]+$/;

/** Flags the executor sets itself; taking them from `extra` would break submission or polling. */
export const MANAGED_FLAGS = [
  '--parsable', '--dependency', '-d', '--kill-on-invalid-dep', '--array', '-a', '--job-name', '-J',
  '--output', '-o', '--error', '-e', '--wrap', '--chdir', '-D',
] as const;

function isManagedFlag(flag: string): boolean {
  return MANAGED_FLAGS.some((m) => flag === m || flag.startsWith(`${m}=`) || (m.length === 2 && flag.startsWith(m)));
}

export const SlurmResourcesSchema = z
  .object({
    partition: z.string().regex(NAME).optional().describe('`--partition`, e.g. `gpu` or `gpu,cpu`.'),
    account: z.string().regex(NAME).optional().describe('`--account` charged for the jobs.'),
    qos: z.string().regex(NAME).optional().describe('`--qos`.'),
    time: z
      .union([z.int().positive(), z.string().regex(TIME)])
      .optional()
      .describe('`--time` limit: minutes, or Slurm\'s `D-HH:MM:SS` forms such as `"4:00:00"`.'),
    cpus: z.int().positive().optional().describe('`--cpus-per-task`.'),
    mem: z
      .union([z.int().positive(), z.string().regex(MEM)])
      .optional()
      .describe('`--mem` per node: megabytes, or a number with K, M, G or T (`16G`).'),
    gpus: z
      .union([z.int().positive(), z.string().regex(/^[A-Za-z0-9_.-]+:\d+$/)])
      .optional()
      .describe('GPUs per task: a count (`1`) or `type:count` (`a100:2`).'),
    gpuFlag: z
      .enum(['gres', 'gpus'])
      .optional()
      .describe('How GPUs are requested: `--gres=gpu:N` (default; works on every Slurm) or `--gpus=N`.'),
    arrayLimit: z
      .int()
      .positive()
      .optional()
      .describe('At most this many tasks of one matrix stage run at once (`--array=...%N`).'),
    extra: z
      .array(
        z
          .string()
          .regex(/^-/, 'an sbatch flag starting with "-", e.g. "--constraint=a100"')
          .refine((f) => !isManagedFlag(f), {
            message: `the executor sets this flag itself (${MANAGED_FLAGS.join(' ')}); remove it from extra`,
          }),
      )
      .optional()
      .describe('More sbatch flags, one per item, passed as they are (`--constraint=a100`, `--exclusive`).'),
  })
  .strict();
export type SlurmResources = z.infer<typeof SlurmResourcesSchema>;

export const SlurmPollSchema = z
  .object({
    minSeconds: z.number().positive().default(1).describe('First wait between two squeue calls.'),
    maxSeconds: z.number().positive().default(30).describe('Waits grow by half each quiet poll up to this.'),
    sharedFsGraceSeconds: z
      .number()
      .nonnegative()
      .default(60)
      .describe('How long a job Slurm reports COMPLETED may take to show its cache entry here (NFS attribute caching) before it counts as failed.'),
  })
  .strict();

/** The `executor:` section when it says `type: slurm`. */
export const SlurmSectionSchema = z
  .object({
    type: z.literal('slurm'),
    resources: SlurmResourcesSchema.default({}).describe('Resources of every task unless its stage\'s `resources:` says otherwise.'),
    arrays: z.boolean().default(true).describe('Submit the tasks of a matrix stage as one job array where possible.'),
    poll: SlurmPollSchema.default({ minSeconds: 1, maxSeconds: 30, sharedFsGraceSeconds: 60 }),
  })
  .strict();

/** Everything the executor needs: the section, plus each stage's own `resources:` block by stage name. */
export const SlurmExecutorConfigSchema = SlurmSectionSchema.extend({
  stages: z.record(z.string(), SlurmResourcesSchema).default({}),
});
export type SlurmExecutorConfig = z.infer<typeof SlurmExecutorConfigSchema>;

/** The resources of one pipeline stage: its own keys over the defaults; `extra` flags of both. */
export function stageResources(config: SlurmExecutorConfig, stageName: string): SlurmResources {
  const own = config.stages[stageName] ?? {};
  const extra = [...(config.resources.extra ?? []), ...(own.extra ?? [])];
  return { ...config.resources, ...own, ...(extra.length ? { extra } : {}) };
}
