import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@lw/core';
import { Cache, LocalExecutor, loadPlan, loadRegistry, writeSpec, type ExecEvent, type Executor } from '@lw/pipeline';

/**
 * The Executor contract as the local executor implements it, driven directly: events in order,
 * epochs from `ctx.progress` over IPC, dependents after their dependencies, cancel.
 */
function setup(): { root: string; plugin: string } {
  const root = mkdtempSync(join(tmpdir(), 'lw-exec-'));
  symlinkSync(join(repoRoot(), 'node_modules'), join(root, 'node_modules'));
  mkdirSync(join(root, 'prog', 'dist'), { recursive: true });
  writeFileSync(join(root, 'prog', 'package.json'), JSON.stringify({ name: '@lwtest/prog', type: 'module' }));
  const plugin = join(root, 'prog', 'dist', 'index.js');
  writeFileSync(
    plugin,
    `import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
export const stages = [{
  id: 'prog/count', description: 'counts epochs', packageName: '@lwtest/prog', inputs: {},
  params: z.strictObject({ epochs: z.number().int(), ms: z.number().int() }),
  async run(ctx) {
    for (let e = 1; e <= ctx.params.epochs; e++) {
      if (ctx.signal.aborted) throw new Error('cancelled');
      await new Promise((r) => setTimeout(r, ctx.params.ms));
      ctx.progress(e, ctx.params.epochs, 'loss ' + (1 / e).toFixed(2));
    }
    writeFileSync(join(ctx.outDir, 'done.txt'), 'ok');
    return { epochs: ctx.params.epochs };
  },
}];
`,
  );
  return { root, plugin };
}

async function drive(executor: Executor, onEvent?: (e: ExecEvent) => void): Promise<ExecEvent[]> {
  const events: ExecEvent[] = [];
  for (;;) {
    const { events: batch, settled } = await executor.poll(5000);
    for (const e of batch) {
      events.push(e);
      onEvent?.(e);
    }
    if (settled) return events;
  }
}

async function prepare(ms: number) {
  const { root, plugin } = setup();
  process.env.LW_STAGES = plugin;
  const file = join(root, 'p.yaml');
  writeFileSync(file, `name: ex\nstages:\n  train: { uses: prog/count, params: { epochs: 3, ms: ${ms} } }\n  after: { uses: exec, inputs: { t: train }, params: { cmd: "cat $LW_IN_T/done.txt > copy.txt" } }\n`);
  const cache = new Cache(join(root, 'cache'));
  const { plan } = await loadPlan(file, [], cache, await loadRegistry(undefined, [plugin]));
  for (const t of plan.tasks) writeSpec(cache, plan, t);
  const [train, after] = plan.tasks;
  const tasks = plan.tasks.map((t) => ({ key: t.key, name: t.name, stageName: t.stageName, stage: t.stage, deps: t.deps }));
  return { cache, train, after, tasks };
}

describe('local executor', () => {
  it('reports start, epochs over IPC and success, and starts a dependent only after its dependency', async () => {
    const { cache, train, after, tasks } = await prepare(30);
    const executor = new LocalExecutor({ cache, jobs: 2 });
    await executor.submit(tasks);
    const events = await drive(executor);
    const ofTrain = events.filter((e) => e.key === train.key).map((e) => (e.type === 'progress' ? `${e.done}/${e.total} ${e.note}` : e.type));
    expect(ofTrain).toEqual(['started', '1/3 loss 1.00', '2/3 loss 0.50', '3/3 loss 0.33', 'succeeded']);
    const order = events.filter((e) => e.type === 'started' || e.type === 'succeeded').map((e) => `${e.type} ${e.key === train.key ? 'train' : 'after'}`);
    expect(order).toEqual(['started train', 'succeeded train', 'started after', 'succeeded after']);
    expect(cache.has(after.key)).toBe(true);
    expect(await executor.poll(10)).toEqual({ events: [], settled: true });
  });

  it('cancel kills the running task, reports it and its dependent, and leaves no entry', async () => {
    const { cache, train, after, tasks } = await prepare(10_000);
    const executor = new LocalExecutor({ cache, jobs: 2, killGraceMs: 2000 });
    await executor.submit(tasks);
    const events = await drive(executor, (e) => {
      if (e.type === 'started') void executor.cancel('test cancel');
    });
    const final = new Map(events.filter((e) => e.type !== 'started' && e.type !== 'progress').map((e) => [e.key, e.type]));
    expect(final.get(train.key)).toBe('cancelled');
    expect(final.get(after.key)).toBe('cancelled');
    expect(cache.has(train.key)).toBe(false);
    expect(cache.sweepTemp()).toBe(0);
  });
});
