import { dirname, isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import type { InputRef } from '../exec/executor.js';
import { resolveEnvVars } from './env-vars.js';
import { interpolateDeep, evaluate, InterpolationError, PathedInterpolationError, type Vars } from './interpolate.js';
import { taskKey, type InputKey, type KeyInputs } from './key.js';
import { conditionName, expandMatrix, MatrixError, type Condition } from './matrix.js';
import { parseReference, type Reference } from './references.js';
import { interpolateExecParams } from '../stages/shell-command.js';
import type { RegisteredStage, Registry } from '../stages/registry.js';
import { PipelineFileSchema, type PipelineFile, type StageBlock } from './schema.js';
import { PlanProblem, Problems } from './problems.js';
import type { Path, SourceFile } from './source.js';

/**
 * The planner: a validated pipeline file -> a task DAG with every key computed. Pure apart from
 * the two fingerprint callbacks (code of a stage, content of an outside file), so it is tested
 * without running anything. Every error names file:line:column and says what would be right;
 * the planner goes on past an error wherever the rest does not depend on it (other stages, other
 * params), and reports all of them in file order (problems.ts).
 */
export interface PlannedTask {
  key: string;
  /** `sweep[type=image_noise,start=5]` */
  name: string;
  stageName: string;
  stage: string;
  params: Record<string, unknown>;
  condition: Condition;
  inputs: Record<string, InputRef | InputRef[]>;
  /** Keys of the tasks this one reads. */
  deps: string[];
  keyInputs: KeyInputs;
  /** What the task needs of the machine: the stage's own `resources(params)`, overridden by the file's `resources:`. */
  resources?: Record<string, unknown>;
  /** The last epoch it writes a checkpoint for (the stage's `lastCheckpoint`); unset for stages without checkpoints. */
  lastCheckpoint?: number;
  /** Estimated units of work (the stage's `work`, given the checkpoint it resumes from); orders the local executor's starts. */
  work: number;
}

export interface Plan {
  name: string;
  file: string;
  /** Directory of the pipeline file: relative paths in params (exec deps) are relative to it. */
  dir: string;
  /** In dependency order. */
  tasks: PlannedTask[];
  /** Stage names in dependency order, with their tasks' keys. */
  stages: { name: string; uses: string; keys: string[] }[];
  executor?: Record<string, unknown>;
}

export interface Fingerprints {
  /** Code fingerprint of a registered stage. */
  code(stage: RegisteredStage): string;
  /** Content hash of an outside file or directory (absolute path); throws if missing. */
  file(path: string): string;
}

export function plan(source: SourceFile, registry: Registry, fingerprints: Fingerprints, env: NodeJS.ProcessEnv = process.env): Plan {
  const problems = new Problems(source.file);
  const file = validateFile(source, problems);
  const locate = (path: Path, onKey?: boolean) => (onKey ? source.atKey(path) : source.at(path));
  const note: Note = (path, message, hint, onKey) => problems.add(locate(path, onKey), message, hint);
  const vars: Vars = resolveEnvVars(file.vars ?? {}, env, (name) => source.at(['vars', name]));
  const dir = dirname(resolve(source.file));

  for (const [name, block] of Object.entries(file.stages)) {
    if (!registry.has(block.uses)) {
      note(['stages', name, 'uses'], `stage "${name}" uses "${block.uses}", which is not a registered stage`, `registered stages: ${[...registry.keys()].sort().join(', ')}${suggest(block.uses, [...registry.keys()])}`);
    }
  }
  const order = stageOrder(file, note);
  const byStage = new Map<string, Upstream>();
  const tasks: PlannedTask[] = [];
  const skipped: string[] = [];
  for (const name of order) {
    const block = file.stages[name];
    const reg = registry.get(block.uses);
    if (!reg) {
      skipped.push(name);
      continue;
    }
    let conditions: Condition[];
    try {
      // Matrix values may use vars: `start: "1..${last}"`.
      conditions = expandMatrix(interpolateDeep(block.matrix, vars) as StageBlock['matrix']);
    } catch (e) {
      if (e instanceof PathedInterpolationError) note(['stages', name, 'matrix', ...e.path], `stage "${name}": ${e.message}`, 'matrix values may use variables from vars:');
      else if (e instanceof MatrixError) note(['stages', name, ...e.path], `stage "${name}": ${e.message}`, e.hint);
      else throw e;
      skipped.push(name);
      continue;
    }
    for (const v of Object.keys(block.matrix ?? {})) {
      if (v !== 'include' && v !== 'exclude' && Object.hasOwn(vars, v)) {
        note(['stages', name, 'matrix', v], `stage "${name}": matrix variable "${v}" has the same name as a variable in vars:`, 'rename one of them');
      }
    }
    // The conditions of a matrix stage share their places in the file: one error per place.
    const noteOnce: Note = (path, message, hint, onKey) => {
      const at = locate(path, onKey);
      problems.add(at, message, hint, `${name}\0${at}`);
    };
    const fail: Fail = (path, message, hint, onKey) => {
      noteOnce(path, message, hint, onKey);
      throw new PlanProblem();
    };
    const stageTasks: PlannedTask[] = [];
    let complete = true;
    for (const condition of conditions) {
      try {
        stageTasks.push(planTask({ name, block, reg, condition, vars: { ...vars, ...condition }, byStage, fail, note: noteOnce, fingerprints, dir }));
      } catch (e) {
        if (!(e instanceof PlanProblem)) throw e;
        complete = false;
      }
    }
    // A stage with a failed condition is left out whole: its consumers would bind to the wrong tasks.
    if (!complete) {
      skipped.push(name);
      continue;
    }
    byStage.set(name, new Upstream(stageTasks, matrixVars(block.matrix)));
    for (const t of stageTasks) tasks.push(t);
  }
  problems.throwIfAny();
  if (skipped.length) throw new Error(`planner: stages ${skipped.join(', ')} were left out without an error`);
  return {
    name: file.name,
    file: source.file,
    dir,
    tasks,
    stages: order.map((name) => ({ name, uses: file.stages[name].uses, keys: byStage.get(name)!.tasks.map((t) => t.key) })),
    executor: file.executor,
  };
}

/** The file against the schema: every issue is reported (in file order), since none can be planned past. */
function validateFile(source: SourceFile, problems: Problems): PipelineFile {
  const parsed = PipelineFileSchema.safeParse(source.data);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  // An unknown key explains a missing one beside it (a misspelt `stages` is also a missing one).
  const unknownIn = new Set(issues.filter((i) => i.code === 'unrecognized_keys').map((i) => JSON.stringify(i.path)));
  const explained = (i: (typeof issues)[number]) => i.code === 'invalid_type' && /received undefined$/.test(i.message) && unknownIn.has(JSON.stringify(i.path.slice(0, -1)));
  for (const issue of issues) {
    if (explained(issue)) continue;
    const path = issue.path as Path;
    const schemaHint = 'see pipelines/schema.json (editors with the YAML language server show it inline)';
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(path);
      for (const key of issue.keys) problems.add(source.atKey([...path, key]), `unknown key "${key}"`, `allowed here: ${known.join(', ')}${suggest(key, known)}`);
    } else if (issue.code === 'invalid_type') {
      problems.add(source.at(path), `${describePath(path)}: ${issue.message.replace(/^Invalid input: /, '')}`, schemaHint);
    } else {
      problems.add(source.at(path), `${describePath(path)}: ${issue.message}`, schemaHint);
    }
  }
  problems.throwIfAny();
  return parsed.data as never;
}

function knownKeys(path: Path): string[] {
  if (path.length === 0) return ['name', 'description', 'vars', 'executor', 'stages'];
  if (path[0] === 'stages' && path.length === 2) return ['uses', 'description', 'inputs', 'params', 'matrix', 'resources'];
  return [];
}

function describePath(path: Path): string {
  return path.length ? path.join('.') : 'the file';
}

/** Records an error located at `path` (at its key with `onKey`, for unknown names). */
type Note = (path: Path, message: string, hint?: string, onKey?: boolean) => void;
/** Records it, then abandons the task being planned (throws PlanProblem). */
type Fail = (path: Path, message: string, hint?: string, onKey?: boolean) => never;

/**
 * Stage names in dependency order; a cycle is reported at the reference that closes it. A bad
 * reference is reported and left out, so the order (and the other errors) can still be found.
 */
function stageOrder(file: PipelineFile, note: Note): string[] {
  const names = Object.keys(file.stages);
  const refsOf = (name: string) => {
    const out: { ref: Reference; path: Path }[] = [];
    for (const [input, value] of Object.entries(file.stages[name].inputs ?? {})) {
      const list = Array.isArray(value) ? value : [value];
      list.forEach((text, i) => {
        const path: Path = Array.isArray(value) ? ['stages', name, 'inputs', input, i] : ['stages', name, 'inputs', input];
        const ref = parseReference(text);
        if (!ref) return note(path, `stage "${name}": input "${input}" is "${text}", which is not a reference`, 'write `stage`, `[stageA, stageB]` or `stage@epoch(${start} - 1)`');
        if (!Object.hasOwn(file.stages, ref.stage)) {
          return note(path, `stage "${name}": input "${input}" refers to stage "${ref.stage}", which this file does not define`, `stages here: ${names.join(', ')}${suggest(ref.stage, names)}`);
        }
        out.push({ ref, path });
      });
    }
    return out;
  };
  const state = new Map<string, 'visiting' | 'done'>();
  const order: string[] = [];
  const visit = (name: string, trail: string[]) => {
    state.set(name, 'visiting');
    for (const { ref, path } of refsOf(name)) {
      const s = state.get(ref.stage);
      if (s === 'visiting') {
        const cycle = [...trail.slice(trail.indexOf(ref.stage)), name, ref.stage];
        note(path, `stage "${name}" depends on itself through a cycle: ${cycle.join(' -> ')}`, 'a stage may only read stages that do not read it back; remove one of these references');
        continue;
      }
      if (s === undefined) visit(ref.stage, [...trail, name]);
    }
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of names) if (!state.has(name)) visit(name, []);
  return order;
}

interface TaskContext {
  name: string;
  block: StageBlock;
  reg: RegisteredStage;
  condition: Condition;
  vars: Vars;
  byStage: Map<string, Upstream>;
  fail: Fail;
  note: Note;
  fingerprints: Fingerprints;
  dir: string;
}

function planTask(c: TaskContext): PlannedTask {
  const { name, block, reg, condition, fail } = c;
  const cname = conditionName(condition);
  const taskName = cname ? `${name}[${cname}]` : name;
  const where = cname ? `stage "${name}" (condition ${cname})` : `stage "${name}"`;
  // Params and inputs are checked apart, so an error in one still lets the other report its own.
  const params = attempt(() => {
    let raw: unknown;
    try {
      // exec's cmd is shell code: its values go in as environment variables, never as text.
      raw = reg.def.id === 'exec' ? interpolateExecParams(block.params ?? {}, c.vars) : interpolateDeep(block.params ?? {}, c.vars);
    } catch (e) {
      if (e instanceof PathedInterpolationError) return fail(['stages', name, 'params', ...e.path], `${where}: ${e.message}`, 'variables come from vars: and the matrix');
      throw e;
    }
    return checkParams(reg.def.params, reg.def.id, raw, name, where, fail, c.note);
  });
  const bound = attempt(() => resolveInputs(c, where));
  if (params === undefined || bound === undefined) throw new PlanProblem();
  const { inputs, keys, deps } = bound;
  const files: Record<string, string> = {};
  for (const p of reg.def.externalPaths?.(params as never) ?? []) {
    try {
      files[p] = c.fingerprints.file(isAbsolute(p) ? p : resolve(c.dir, p));
    } catch {
      fail(['stages', name, 'params'], `${where}: file "${p}" named in the params does not exist`, `paths are relative to the pipeline file's directory (${c.dir})`);
    }
  }
  const keyInputs: KeyInputs = { version: 1, stage: reg.def.id, code: c.fingerprints.code(reg), params, inputs: keys, files };
  let resumedFrom = 0;
  for (const v of Object.values(inputs)) for (const r of Array.isArray(v) ? v : [v]) resumedFrom = Math.max(resumedFrom, r.epoch ?? 0);
  const declared = reg.def.resources?.(params as never);
  const resources = declared && Object.keys(declared).length > 0 ? { ...declared, ...block.resources } : block.resources;
  const lastCheckpoint = reg.def.lastCheckpoint?.(params as never);
  return {
    key: taskKey(keyInputs),
    name: taskName,
    stageName: name,
    stage: reg.def.id,
    params,
    condition,
    inputs,
    deps,
    keyInputs,
    resources,
    ...(lastCheckpoint === undefined ? {} : { lastCheckpoint }),
    work: Math.max(1, reg.def.work?.(params as never, resumedFrom) ?? 1),
  };
}

/** Runs one part of planning a task; undefined if it recorded a problem. */
function attempt<T>(part: () => T): T | undefined {
  try {
    return part();
  } catch (e) {
    if (e instanceof PlanProblem) return undefined;
    throw e;
  }
}

function checkParams(schema: z.ZodType, stageId: string, raw: unknown, name: string, where: string, fail: Fail, note: Note): Record<string, unknown> {
  const parsed = schema.safeParse(raw);
  const base: Path = ['stages', name, 'params'];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path as Path;
      if (issue.code === 'unrecognized_keys') {
        const known = shapeKeys(schema, path);
        for (const key of issue.keys) note([...base, ...path, key], `${where}: unknown param "${[...path, key].join('.')}"`, `params of this stage: ${known.join(', ')}${suggest(key, known)}`, true);
      } else {
        note([...base, ...path], `${where}: param "${path.join('.') || '(params)'}": ${issue.message.replace(/^Invalid input: /, '')}`, `see the stage's params with \`lw stages ${stageId}\``);
      }
    }
    throw new PlanProblem();
  }
  const unknown = strippedKey(raw, parsed.data);
  if (unknown) fail([...base, ...unknown], `${where}: unknown param "${unknown.join('.')}"`, `params of this stage: ${shapeKeys(schema, unknown.slice(0, -1)).join(', ')}`, true);
  return parsed.data as Record<string, unknown>;
}

/** A key present in the input but dropped by a non-strict schema: an unknown param all the same. */
function strippedKey(input: unknown, output: unknown, path: Path = []): Path | undefined {
  if (!isPlainObject(input) || !isPlainObject(output)) return undefined;
  for (const [k, v] of Object.entries(input)) {
    if (!Object.hasOwn(output, k)) return [...path, k];
    const deeper = strippedKey(v, output[k], [...path, k]);
    if (deeper) return deeper;
  }
  return undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function shapeKeys(schema: z.ZodType, path: Path): string[] {
  let s: unknown = schema;
  for (const p of [...path, null]) {
    while (s && typeof s === 'object' && 'unwrap' in s && typeof (s as { unwrap: unknown }).unwrap === 'function' && !('shape' in s)) s = (s as { unwrap(): unknown }).unwrap();
    if (p === null) break;
    s = (s as { shape?: Record<string, unknown> })?.shape?.[p as string];
  }
  const shape = (s as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? Object.keys(shape) : [];
}

function resolveInputs(c: TaskContext, where: string) {
  const { name, block, reg, fail } = c;
  const specs = reg.def.inputs;
  const given = block.inputs ?? {};
  const inputs: Record<string, InputRef | InputRef[]> = {};
  const keys: Record<string, InputKey | InputKey[]> = {};
  const deps = new Set<string>();
  const acceptsAny = reg.def.id === 'exec';
  for (const input of Object.keys(given)) {
    if (!acceptsAny && !Object.hasOwn(specs, input)) {
      fail(['stages', name, 'inputs', input], `${where}: "${reg.def.id}" has no input "${input}"`, `inputs of ${reg.def.id}: ${Object.keys(specs).join(', ') || '(none)'}${suggest(input, Object.keys(specs))}`, true);
    }
  }
  for (const [input, spec] of Object.entries(specs)) {
    if (!Object.hasOwn(given, input) && !spec.optional) {
      fail(['stages', name], `${where}: required input "${input}" of ${reg.def.id} is missing`, `add inputs: { ${input}: <stage> } (${spec.description})`);
    }
  }
  for (const [input, value] of Object.entries(given)) {
    const spec = specs[input];
    const list = Array.isArray(value);
    const resolved: InputRef[] = [];
    let wholeMatrix = false;
    (list ? value : [value]).forEach((text, i) => {
      const path: Path = list ? ['stages', name, 'inputs', input, i] : ['stages', name, 'inputs', input];
      const ref = parseReference(text);
      if (!ref) throw new PlanProblem(); // reported with the stage order
      const bound = bindReference(c, ref, text, path, where);
      for (const r of bound.refs) resolved.push(r);
      wholeMatrix ||= bound.wholeMatrix;
    });
    for (const r of resolved) deps.add(r.key);
    // A list, or a whole matrix stage, is a list even when it holds one result.
    const many = list || wholeMatrix;
    if (spec?.arity === 'one' && many) fail(['stages', name, 'inputs', input], `${where}: input "${input}" takes one result, but "${String(value)}" gives ${resolved.length}`, 'refer to a single task, or to a matrix stage with the same matrix variables so it binds to the same condition');
    if (spec?.arity === 'many' && !many) {
      inputs[input] = resolved;
    } else inputs[input] = many ? resolved : resolved[0];
    if (spec?.checkpoint && resolved.some((r) => r.epoch === undefined)) {
      fail(['stages', name, 'inputs', input], `${where}: input "${input}" must name one checkpoint`, 'write `stage@epoch(N)`, e.g. baseline@epoch(${start} - 1)');
    }
    if (spec?.accepts?.length) {
      const bad = resolved.find((r) => !spec.accepts!.includes(r.stage));
      if (bad) fail(['stages', name, 'inputs', input], `${where}: input "${input}" accepts results of ${spec.accepts.join(', ')}, not of ${bad.stage}`);
    }
    const toKey = (r: InputRef): InputKey => (r.epoch === undefined ? r.key : { key: r.key, epoch: r.epoch });
    const v = inputs[input];
    keys[input] = Array.isArray(v) ? v.map(toKey) : toKey(v);
  }
  return { inputs, keys, deps: [...deps] };
}

/** A reference -> the upstream tasks it means for this condition. */
function bindReference(c: TaskContext, ref: Reference, text: string, path: Path, where: string): { refs: InputRef[]; wholeMatrix: boolean } {
  const upstream = c.byStage.get(ref.stage);
  // Not planned: its own error (or the cycle through it) is already reported.
  if (!upstream) throw new PlanProblem();
  const upVars = upstream.vars;
  // Same matrix variables: bind to the one upstream task of this very condition.
  const binds = upVars.length > 0 && upVars.every((v) => Object.hasOwn(c.condition, v));
  const chosen = binds ? upstream.matching(c.condition) : upstream.tasks;
  if (binds && chosen.length === 0) {
    c.fail(path, `${where}: "${text}" binds to condition ${upVars.map((v) => `${v}=${String(c.condition[v])}`).join(',')} of stage "${ref.stage}", which has no such condition`, `add it to ${ref.stage}'s matrix, or exclude it here`);
  }
  let epoch: number | undefined;
  if (ref.epochExpr !== undefined) {
    if (chosen.length !== 1) c.fail(path, `${where}: "${text}" names a checkpoint of ${chosen.length} tasks`, 'a checkpoint reference needs one task: a plain stage, or a matrix stage with the same matrix variables');
    let value: unknown;
    try {
      value = evaluate(ref.epochExpr, c.vars);
    } catch (e) {
      if (e instanceof InterpolationError) c.fail(path, `${where}: in "${text}": ${e.message}`, 'the epoch is integer arithmetic over vars and matrix variables, e.g. baseline@epoch(${start} - 1)');
      throw e;
    }
    if (!Number.isInteger(value)) c.fail(path, `${where}: "${text}" gives epoch ${JSON.stringify(value)}, not an integer`);
    epoch = value as number;
    if (epoch < 0) c.fail(path, `${where}: "${text}" gives epoch ${epoch}`, 'epochs start at 0 (the initial state); checkpoints exist for 0..epochs');
    const last = chosen[0].lastCheckpoint;
    if (last === undefined) {
      c.fail(path, `${where}: "${text}" names a checkpoint, but ${chosen[0].name} (${chosen[0].stage}) writes none`, 'checkpoint references name a training stage: baseline@epoch(N)');
    } else if (epoch > last) {
      c.fail(path, `${where}: "${text}" gives epoch ${epoch}, but ${chosen[0].name} trains only ${last} epochs`, `checkpoints of ${chosen[0].name} are epochs 0..${last}`);
    }
  }
  const refs = !binds && epoch === undefined ? upstream.allRefs() : chosen.map((t) => inputRef(t, epoch));
  return { refs, wholeMatrix: upVars.length > 0 && !binds };
}

function inputRef(t: PlannedTask, epoch?: number): InputRef {
  return { key: t.key, stage: t.stage, name: t.name, params: t.params, condition: t.condition, ...(epoch === undefined ? {} : { epoch }) };
}

/** The variables of a matrix (its keys but include and exclude). */
function matrixVars(matrix: StageBlock['matrix']): string[] {
  return matrix ? Object.keys(matrix).filter((k) => k !== 'include' && k !== 'exclude') : [];
}

/**
 * A planned stage as its consumers read it. Indexed by condition once, so binding each of N
 * downstream conditions to its upstream task is a lookup rather than a scan of the N upstream
 * tasks; the references to the whole stage are made once and shared by every consumer.
 */
class Upstream {
  private byCondition?: Map<string, PlannedTask[]>;
  private refs?: InputRef[];

  constructor(
    readonly tasks: PlannedTask[],
    /** Its matrix variables. */
    readonly vars: string[],
  ) {}

  /** The tasks whose matrix variables have the values they have in `condition` (in plan order). */
  matching(condition: Condition): PlannedTask[] {
    if (!this.byCondition) {
      this.byCondition = new Map();
      for (const t of this.tasks) {
        const k = this.valuesKey(t.condition);
        const list = this.byCondition.get(k);
        if (list) list.push(t);
        else this.byCondition.set(k, [t]);
      }
    }
    return this.byCondition.get(this.valuesKey(condition)) ?? [];
  }

  /** Every task, as plain references (no epoch). */
  allRefs(): InputRef[] {
    return (this.refs ??= this.tasks.map((t) => inputRef(t)));
  }

  /** Equal exactly when every variable's value is === (values are strings, finite numbers and booleans). */
  private valuesKey(condition: Condition): string {
    return JSON.stringify(this.vars.map((v) => (Object.hasOwn(condition, v) ? condition[v] : null)));
  }
}

/** `; did you mean "x"?` for a near miss (1 edit, 2 for words of 6+ letters), else ''. */
export function suggest(word: string, options: string[]): string {
  let best: string | undefined;
  let bestD = word.length >= 6 ? 3 : 2;
  for (const o of options) {
    const d = editDistance(word, o);
    if (d < bestD) [best, bestD] = [o, d];
  }
  return best ? `; did you mean "${best}"?` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
