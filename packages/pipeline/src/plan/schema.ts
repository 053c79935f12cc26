import { z } from 'zod';
import type { Registry } from '../stages/registry.js';

/**
 * The pipeline file schema. `lw schema` (and `npm run build` via the test that checks it) writes
 * its JSON Schema to `pipelines/schema.json`, which every pipeline file names on its first line
 * (`# yaml-language-server: $schema=./schema.json`) so editors complete and check it.
 * Each registered stage's params schema is in it too, chosen by `uses`, so an editor completes
 * `params` of a `train/behavior` stage and flags a wrong type. Cross-field rules (references,
 * cycles) live in the planner, which also checks params again after interpolation.
 */

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;
const stageName = /^[A-Za-z_][A-Za-z0-9_-]*$/;

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** A variable read from the environment (or `--set`), for paths that differ per machine. */
export const EnvVarSchema = z
  .strictObject({
    env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name').describe('Environment variable that holds the value'),
    default: scalar.optional().describe('Value when the environment variable is unset; without one the variable is required'),
    description: z.string().optional().describe('What the value is, shown when it is missing'),
  })
  .describe('`{ env: NAME }`: the value of an environment variable; `--set name=value` overrides it.');
export type EnvVar = z.infer<typeof EnvVarSchema>;

const matrixValues = z
  .union([z.array(scalar).min(1), z.string().regex(/^\s*(-?\d+|\$\{[^}]*\})\s*\.\.\s*(-?\d+|\$\{[^}]*\})\s*$/, 'expected an integer range such as "1..98" or "1..${last}"')])
  .describe('The values of one matrix variable: a list (`[a, b]`) or an inclusive integer range (`"1..98"`); bounds may be `${var}`.')
  .meta({ examples: [['random_target', 'label_shuffle'], '1..40'] });

const condition = z.record(z.string().regex(identifier), scalar);

export const MatrixSchema = z
  .object({
    include: z.array(condition).optional().describe('Extra conditions added after the cross product, e.g. `[{ type: image_noise, start: 50 }]`.'),
    exclude: z.array(condition).optional().describe('Conditions removed from the cross product; a partial condition removes every match.'),
  })
  .catchall(matrixValues)
  .describe('One task per combination of these variables; `${name}` in params and inputs takes each value.');

const reference = z
  .string()
  .describe('Another stage\'s result: `stage`, or one checkpoint of a training task: `stage@epoch(${start} - 1)`.');

export const StageBlockSchema = z
  .strictObject({
    uses: z.string().min(1).describe('The registered stage id to run, e.g. `train/behavior` or `exec`.').meta({ examples: ['exec', 'train/behavior'] }),
    description: z.string().optional().describe('Free text shown by `lw status`.'),
    inputs: z
      .record(z.string().regex(identifier), z.union([reference, z.array(reference)]))
      .optional()
      .describe('Named inputs: a reference, or a list of references (`[sweep, other]`). A matrix stage given whole yields one result per condition.'),
    params: z.record(z.string(), z.unknown()).optional().describe('The stage\'s params, checked against its schema; strings may use `${var}` with integer arithmetic.'),
    matrix: MatrixSchema.optional(),
    resources: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Executor resources for this stage\'s tasks (cpus, mem, time, gpus, ...); read by the executor, not part of the cache key.'),
  })
  .describe('One stage: which stage to run, its inputs, params and matrix.');

export const PipelineFileSchema = z
  .strictObject({
    name: z.string().regex(stageName, 'expected a name of letters, digits, _ and -').describe('The pipeline\'s name, used in results paths and job names.'),
    description: z.string().optional(),
    vars: z
      .record(z.string().regex(identifier, 'variable names are identifiers: letters, digits and _'), z.union([scalar, EnvVarSchema]))
      .optional()
      .describe('Variables usable as `${name}` everywhere; `--set name=value` overrides them. `{ env: NAME }` reads one from the environment.'),
    executor: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Executor settings (`local` or `slurm` and its options); not part of the cache key.'),
    stages: z
      .record(z.string().regex(stageName, 'stage names are letters, digits, _ and -'), StageBlockSchema)
      .refine((s) => Object.keys(s).length > 0, 'a pipeline needs at least one stage')
      .describe('The stages, by name.'),
  })
  .describe('A learning-windows pipeline file.');

export type PipelineFile = z.infer<typeof PipelineFileSchema>;
export type StageBlock = z.infer<typeof StageBlockSchema>;
export type Matrix = z.infer<typeof MatrixSchema>;

/**
 * The JSON Schema editors use (`pipelines/schema.json`): the file schema, plus for every stage of
 * `registry` an `if uses is <id> then params is <that stage's params>` rule.
 */
export function pipelineJsonSchema(registry: Registry): string {
  const schema = z.toJSONSchema(PipelineFileSchema, { target: 'draft-7', io: 'input' }) as JsonSchema;
  const stage = (schema.properties as Record<string, JsonSchema>).stages.additionalProperties as JsonSchema;
  stage.allOf = [...registry.values()]
    .sort((a, b) => a.def.id.localeCompare(b.def.id))
    .map(({ def }) => ({
      if: { properties: { uses: { const: def.id } }, required: ['uses'] },
      then: { properties: { params: interpolatable(z.toJSONSchema(def.params, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as JsonSchema) } },
    }));
  return JSON.stringify({ ...schema, title: 'learning-windows pipeline file' }, null, 2) + '\n';
}

type JsonSchema = Record<string, unknown>;

/** Where a param takes a number, boolean or enum, the file may write `${expr}` instead (interpolated before the planner checks it). */
function interpolatable(node: JsonSchema): JsonSchema {
  const { $schema: _, ...rest } = node;
  return widen(rest);
}

const placeholder = { type: 'string', pattern: '\\$\\{' };

function widen(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'properties' || k === 'definitions' || k === '$defs') out[k] = Object.fromEntries(Object.entries(v as Record<string, JsonSchema>).map(([name, sub]) => [name, widen(sub)]));
    else if ((k === 'items' || k === 'additionalProperties') && v && typeof v === 'object' && !Array.isArray(v)) out[k] = widen(v as JsonSchema);
    else if ((k === 'anyOf' || k === 'oneOf' || k === 'allOf') && Array.isArray(v)) out[k] = v.map((sub) => widen(sub as JsonSchema));
    else out[k] = v;
  }
  // The planner rejects a key a stage's schema would drop (an unknown param), strict or not.
  if (out.properties !== undefined && out.additionalProperties === undefined) out.additionalProperties = false;
  const types = ([] as unknown[]).concat(out.type ?? []);
  const scalarOnly = types.length > 0 && types.every((t) => t === 'number' || t === 'integer' || t === 'boolean');
  if (scalarOnly || out.enum !== undefined || out.const !== undefined) {
    const { description, default: dflt, ...value } = out;
    return { ...(description === undefined ? {} : { description }), ...(dflt === undefined ? {} : { default: dflt }), anyOf: [value, placeholder] };
  }
  return out;
}
