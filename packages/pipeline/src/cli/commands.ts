import { writeFileSync } from 'node:fs';
import { UserError, type CliCommand } from '@lw/core';
import { Cache } from '../cache/cache.js';
import { computedFrom } from '../cache/downstream.js';
import { executorName, executors } from '../exec/executors.js';
import { cancelCommand } from '../exec/slurm/cancel.js';
import { slurmTaskStatus } from '../exec/slurm/status.js';
import { describeParams } from '../stages/stage-params.js';
import { explain, formatChange } from './explain.js';
import { gc, parseSize } from '../cache/gc.js';
import { loadPlan } from '../plan/load.js';
import { loadRegistry } from '../stages/registry.js';
import { execTasks, runPipeline, selectTasks } from './run.js';
import { pipelineJsonSchema } from '../plan/schema.js';
import { pipelineStatus } from './status.js';
import { readSpec, runTask } from '../exec/task-runner.js';
import { problemLines, problemsJson, problemsText, taskProblems } from '../exec/task-problems.js';

/** The pipeline package's `lw` commands. With --json, the last line of stdout is one JSON object. */
interface Common {
  cache: string;
  /** Results root (`--results`, LW_RESULTS, `.lw/results`), absolute. */
  results: string;
  json?: boolean;
}

const out = (s: string) => process.stdout.write(s + '\n');
const err = (s: string) => process.stderr.write(s + '\n');

const run: CliCommand = {
  command: 'run <file>',
  describe: 'Run a pipeline file: every task not in the cache, in dependency order',
  builder: (y) =>
    y
      .positional('file', { type: 'string', describe: 'Pipeline file (YAML)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Plan only: list what would run' })
      .option('json', { type: 'boolean', default: false, describe: 'Last stdout line: {"tasks","ran","cached","failed"} (+"problems" when a task reported any; {"tasks","toRun","cached"} with --dry-run)' })
      .option('jobs', { alias: 'j', type: 'number', describe: 'Tasks at once (local executor); default: CPU cores' })
      .option('only', { type: 'string', array: true, describe: 'Run only these stages (and what they need)' })
      .option('set', { type: 'string', array: true, default: [], describe: 'Override a variable or dotted path: --set seed=2 --set stages.baseline.params.epochs=5' })
      .option('fail-fast', { type: 'boolean', default: false, describe: 'Cancel everything at the first failure' })
      .option('executor', { type: 'string', describe: `Where tasks run: ${[...executors.keys()].join(', ')} (default: the file's executor.type, else local)` })
      .example('lw run pipelines/sweep.yaml --jobs 2', 'run the sweep on two cores')
      .example('lw run pipelines/sweep.yaml --dry-run --set epochs=5', 'show what a change would rerun'),
  handler: async (a: Common & { file: string; dryRun: boolean; jobs?: number; only?: string[]; set: string[]; failFast: boolean; executor?: string }) => {
    const cache = new Cache(a.cache);
    if (a.jobs !== undefined && (!Number.isInteger(a.jobs) || a.jobs < 1)) throw new UserError(`--jobs ${a.jobs}: expected a positive integer`);
    // Checked up front: a run with nothing to do never builds its executor, so would take any name.
    if (a.executor !== undefined && !executors.has(a.executor)) throw new UserError(`--executor ${a.executor}: unknown executor`, `executors: ${[...executors.keys()].join(', ')}`);
    const controller = new AbortController();
    let interrupts = 0;
    const onSigint = () => {
      if (++interrupts > 1) process.exit(130);
      err('interrupted: cancelling running tasks (Ctrl-C again to quit at once)');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    const summary = await runPipeline({
      file: a.file,
      cache,
      resultsRoot: a.results,
      sets: a.set,
      only: a.only,
      dryRun: a.dryRun,
      failFast: a.failFast,
      signal: controller.signal,
      executor: (plan) => {
        const name = executorName(plan, a.executor);
        const factory = executors.get(name);
        if (!factory) throw new UserError(`unknown executor "${name}"`, `executors: ${[...executors.keys()].join(', ')}`);
        return factory(plan, { cache, jobs: a.jobs });
      },
    });
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    if (a.dryRun) {
      const corrupt = new Set(summary.corrupt.map((c) => c.key));
      const cachedKeys = new Set(summary.plan.tasks.filter((t) => cache.has(t.key) && !corrupt.has(t.key)).map((t) => t.key));
      for (const c of summary.corrupt) err(`corrupted cache entry of ${c.name} (${cache.entryDir(c.key)}): files not matching its checksums.json: ${c.files.join(', ')} (a real run recomputes it)`);
      const name = executorName(summary.plan, a.executor);
      const executor = executors.get(name)!(summary.plan, { cache, jobs: a.jobs });
      // The local listing is for people; with --json only the summary line is printed. Slurm's lines are a script.
      if (!a.json || name !== 'local') for (const line of executor.dryRun(execTasks(selectTasks(summary.plan, a.only ?? [])), cachedKeys)) out(line);
      err(`${summary.tasks} tasks: ${summary.toRun} to run, ${summary.cached} cached`);
      if (a.json) out(JSON.stringify({ tasks: summary.tasks, toRun: summary.toRun, cached: summary.cached }));
      return;
    }
    if (!a.json) {
      for (const s of summary.plan.stages) out(`${s.name}: ${s.keys.length} task${s.keys.length === 1 ? '' : 's'} -> ${summary.resultsDir}/${s.name}`);
    }
    // Tasks that succeeded with problems (the analysis skipping inputs) are counted too: such a run is not clean.
    const problems = taskProblems(cache, selectTasks(summary.plan, a.only ?? []));
    err(`${summary.tasks} tasks: ${summary.ran} ran, ${summary.cached} cached, ${summary.failed} failed${summary.skipped ? `, ${summary.skipped} not run` : ''}${problemsText(problems)}; results in ${summary.resultsDir}`);
    for (const f of summary.failures) err(`failed: ${f.name}: ${f.reason}${f.logPath ? ` (log: ${f.logPath})` : ''}`);
    for (const line of problemLines(problems)) err(line);
    if (a.json) out(JSON.stringify({ tasks: summary.tasks, ran: summary.ran, cached: summary.cached, failed: summary.failed, ...problemsJson(problems) }));
    if (summary.cancelled) process.exitCode = 130;
    else if (summary.failed > 0 || summary.skipped > 0) process.exitCode = 1;
  },
};

const status: CliCommand = {
  command: 'status <file>',
  describe: 'Per stage: tasks cached, stale (changed since the last run) and missing',
  builder: (y) =>
    y
      .positional('file', { type: 'string', describe: 'Pipeline file' })
      .option('set', { type: 'string', array: true, default: [], describe: 'Overrides, as for run' })
      .option('json', { type: 'boolean', default: false, describe: 'Last stdout line: {"tasks","cached","stale","missing","stages":[...]}' }),
  handler: async (a: Common & { file: string; set: string[] }) => {
    const cache = new Cache(a.cache);
    const { plan } = await loadPlan(a.file, a.set, cache);
    const stages = pipelineStatus(plan, cache, a.results);
    // Tasks of the last Slurm run of this file that have not succeeded: job, state, reason, log.
    const slurm = [...(await slurmTaskStatus({ cacheDir: cache.dir, pipelineFile: a.file }))]
      .filter(([, t]) => t.state !== 'succeeded')
      .map(([key, t]) => ({ task: plan.tasks.find((p) => p.key === key)?.name ?? key.slice(0, 12), key, ...t }));
    const sum = (f: (s: (typeof stages)[number]) => number) => stages.reduce((n, s) => n + f(s), 0);
    const totals = { tasks: sum((s) => s.tasks), cached: sum((s) => s.cached), stale: sum((s) => s.stale.length), missing: sum((s) => s.missing.length) };
    if (a.json) {
      out(JSON.stringify({ ...totals, stages, slurm }));
      return;
    }
    for (const s of stages) {
      out(`${s.stage.padEnd(16)} ${s.uses.padEnd(22)} ${s.cached}/${s.tasks} cached${s.stale.length ? `, ${s.stale.length} stale` : ''}${s.missing.length ? `, ${s.missing.length} missing` : ''}`);
      for (const n of s.stale.slice(0, 5)) out(`  stale   ${n}`);
      for (const n of s.missing.slice(0, 5)) out(`  missing ${n}`);
      const more = s.stale.length + s.missing.length - Math.min(5, s.stale.length) - Math.min(5, s.missing.length);
      if (more > 0) out(`  ... ${more} more`);
    }
    for (const t of slurm) out(`slurm ${t.state.padEnd(9)} ${t.task} (job ${t.jobId}${t.reason ? `: ${t.reason}` : ''})${t.logPath ? ` log: ${t.logPath}` : ''}`);
    out(`${totals.tasks} tasks: ${totals.cached} cached, ${totals.stale} stale, ${totals.missing} missing`);
  },
};

const explainCommand: CliCommand = {
  command: 'explain <file> <task>',
  describe: 'Why a task will run: which of its key inputs changed since its cached entry',
  builder: (y) =>
    y
      .positional('file', { type: 'string', describe: 'Pipeline file' })
      .positional('task', { type: 'string', describe: 'Task name, e.g. "sweep[type=image_noise,start=5]", or a stage with one task' })
      .option('set', { type: 'string', array: true, default: [], describe: 'Overrides, as for run' })
      .option('json', { type: 'boolean', default: false, describe: 'Last stdout line: the explanation as JSON' }),
  handler: async (a: Common & { file: string; task: string; set: string[] }) => {
    const cache = new Cache(a.cache);
    const { plan } = await loadPlan(a.file, a.set, cache);
    const e = explain(plan, cache, a.task, a.results);
    if (a.json) {
      out(JSON.stringify(e));
      return;
    }
    out(`${e.task}  key ${e.key}`);
    if (e.cached) out('cached: will not run');
    else if (!e.previousKey) out('never run before: will run');
    else {
      out(`will run; last run's entry was ${e.previousKey}. Changed key inputs:`);
      for (const c of e.changes) out(`  ${formatChange(c)}`);
    }
  },
};

const verify: CliCommand = {
  command: 'verify',
  describe: 'Re-hash every cache entry against its manifest; remove corrupted entries and the entries computed from them, so the next run recomputes them',
  builder: (y) =>
    y
      .option('dry-run', { type: 'boolean', default: false, describe: 'Report only; remove nothing' })
      .option('json', { type: 'boolean', default: false, describe: 'Last stdout line: {"entries","ok","corrupt":[{"key","files"}],"downstream":[{"key","name","from"}]}' }),
  handler: async (a: Common & { dryRun: boolean }) => {
    const cache = new Cache(a.cache);
    const removed = a.dryRun ? '' : ' (removed)';
    const name = (key: string) => {
      try {
        return cache.readResult(key)?.name ?? '?';
      } catch {
        return '?';
      }
    };
    const corrupt: { key: string; files: string[] }[] = [];
    const keys = cache.keys();
    for (const key of keys) {
      const files = cache.verify(key);
      if (files.length === 0) continue;
      corrupt.push({ key, files });
      if (!a.json) out(`corrupt ${key} ${name(key)}: ${files.join(', ')}${removed}`);
    }
    // Entries computed from a corrupted one may have read its files after they changed (before
    // inputs were checked, or between checks): their content is suspect too.
    const downstream = [...computedFrom(cache, corrupt.map((c) => c.key))].map(([key, from]) => ({ key, name: name(key), from }));
    for (const d of downstream) if (!a.json) out(`computed from a corrupt entry: ${d.key} ${d.name} (from ${d.from.map((k) => k.slice(0, 12)).join(', ')})${removed}`);
    if (!a.dryRun) for (const key of [...downstream.map((d) => d.key), ...corrupt.map((c) => c.key)]) cache.remove(key);
    const ok = keys.length - corrupt.length - downstream.length;
    if (a.json) out(JSON.stringify({ entries: keys.length, ok, corrupt, downstream }));
    else out(`${keys.length} entries: ${ok} ok, ${corrupt.length} corrupt, ${downstream.length} computed from corrupt entries${corrupt.length && !a.dryRun ? '; removed, the next run recomputes them' : ''}`);
    if (corrupt.length) process.exitCode = 1;
  },
};

const gcCommand: CliCommand = {
  command: 'gc',
  describe: 'Remove cache entries not needed by the kept pipeline files, and/or the oldest past a size budget',
  builder: (y) =>
    y
      .option('keep', { type: 'string', array: true, describe: 'Pipeline files whose current tasks are kept' })
      .option('max-size', { type: 'string', describe: 'Size budget, e.g. 20G: oldest entries go first' })
      .option('set', { type: 'string', array: true, default: [], describe: 'Overrides applied to every kept file' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Report only' })
      .option('json', { type: 'boolean', default: false, describe: 'Last stdout line: {"removed","freedBytes","keptBytes"}' })
      .check((a: { keep?: string[]; maxSize?: string }) => {
        if (!a.keep && a.maxSize === undefined) throw new Error('give --keep FILE... and/or --max-size SIZE');
        return true;
      }),
  handler: async (a: Common & { keep?: string[]; maxSize?: string; set: string[]; dryRun: boolean }) => {
    const cache = new Cache(a.cache);
    let keep: Set<string> | undefined;
    if (a.keep) {
      keep = new Set();
      const registry = await loadRegistry();
      for (const file of a.keep) for (const t of (await loadPlan(file, a.set, cache, registry)).plan.tasks) keep.add(t.key);
    }
    const r = gc(cache, { keep, maxBytes: a.maxSize === undefined ? undefined : parseSize(a.maxSize), dryRun: a.dryRun });
    if (a.json) out(JSON.stringify({ removed: r.removed.length, freedBytes: r.freedBytes, keptBytes: r.keptBytes }));
    else out(`${a.dryRun ? 'would remove' : 'removed'} ${r.removed.length} entries (${(r.freedBytes / 2 ** 20).toFixed(1)} MiB); ${(r.keptBytes / 2 ** 20).toFixed(1)} MiB kept`);
  },
};

const task: CliCommand = {
  command: 'task <key>',
  describe: 'Run one task from its spec in the cache (what executors run; Slurm jobs call this)',
  builder: (y) =>
    y
      .positional('key', { type: 'string', describe: 'The task key (its spec is <cache>/specs/<key>.json)' })
      .option('json', { type: 'boolean', default: false, describe: 'Last stdout line: {"key","outcome"} (ran, cached, cachedByOther)' }),
  handler: async (a: Common & { key: string }) => {
    const controller = new AbortController();
    const cancel = () => controller.abort();
    process.on('SIGTERM', cancel);
    process.on('SIGINT', cancel);
    const cache = new Cache(a.cache);
    const outcome = await runTask(cache, a.key, {
      signal: controller.signal,
      registry: await loadRegistry(cache.has(a.key) ? [] : [readSpec(cache, a.key).stage]),
      onProgress: (done, total, note) => err(`progress ${done}/${total}${note ? ` ${note}` : ''}`),
    });
    if (a.json) out(JSON.stringify({ key: a.key, outcome }));
    else err(`${a.key}: ${outcome}`);
  },
};

const schema: CliCommand = {
  command: 'schema',
  describe: 'Print the pipeline file JSON Schema (or write it with --out)',
  builder: (y) => y.option('out', { type: 'string', describe: 'Write to this file, e.g. pipelines/schema.json' }),
  handler: async (a: { out?: string }) => {
    const schema = pipelineJsonSchema(await loadRegistry());
    if (a.out) writeFileSync(a.out, schema);
    else process.stdout.write(schema);
  },
};

const stages: CliCommand = {
  command: 'stages [id]',
  describe: 'List the registered stages with their inputs and params (name, type, default, description)',
  builder: (y) =>
    y
      .positional('id', { type: 'string', describe: 'Only this stage, e.g. train/behavior' })
      .option('json', { type: 'boolean', default: false, describe: 'Last stdout line: [{"id","package","description","inputs","params":[{"name","type","required","default","description"}]}]' }),
  handler: async (a: { id?: string; json?: boolean }) => {
    const registry = await loadRegistry(a.id === undefined ? undefined : [a.id]);
    if (a.id !== undefined && !registry.has(a.id)) throw new UserError(`no stage "${a.id}"`, `stages: ${[...registry.keys()].sort().join(', ')}`);
    const list = [...registry.values()]
      .filter((r) => a.id === undefined || r.def.id === a.id)
      .map((r) => ({ id: r.def.id, package: r.def.packageName, description: r.def.description, inputs: Object.keys(r.def.inputs), params: describeParams(r.def.params) }));
    if (a.json) {
      out(JSON.stringify(list));
      return;
    }
    for (const s of list) {
      out(`${s.id.padEnd(26)} ${s.description}${s.inputs.length ? ` (inputs: ${s.inputs.join(', ')})` : ''}`);
      const kinds = s.params.map((p) => `${p.type}${p.required ? ', required' : p.default !== undefined ? `, default ${JSON.stringify(p.default)}` : ''}`);
      const nameWidth = Math.max(0, ...s.params.map((p) => p.name.length));
      const kindWidth = Math.min(44, Math.max(0, ...kinds.map((k) => k.length)));
      s.params.forEach((p, i) => out(`    ${p.name.padEnd(nameWidth)}  ${kinds[i].padEnd(kindWidth)}  ${p.description ?? ''}`.trimEnd()));
    }
  },
};

export const commands: CliCommand[] = [run, status, explainCommand, verify, gcCommand, task, schema, stages, cancelCommand];
