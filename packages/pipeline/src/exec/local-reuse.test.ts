import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cache, LocalExecutor, loadPlan, loadRegistry, writeSpec, type ExecEvent } from '@lw/pipeline';
import { pluginProject } from '../testing/plugin-project.js';

/**
 * The local executor's children take task after task: one process runs a chain of tasks, each task's
 * output lands in its own log, and a child whose task failed is not given another. Ready tasks start
 * by priority.
 */
const stageModule = `import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
export const stages = [{
  id: 'prog/say', description: 'logs a word, or fails', packageName: '@lwtest/prog', inputs: {},
  params: z.strictObject({ word: z.string(), fail: z.boolean() }),
  async run(ctx) {
    ctx.log('says ' + ctx.params.word);
    console.error('stderr of ' + ctx.params.word);
    if (ctx.params.fail) throw new Error('told to fail');
    writeFileSync(join(ctx.outDir, 'word.txt'), ctx.params.word);
    return {};
  },
}];
`;

const saved = process.env.LW_STAGES;
afterEach(() => {
  if (saved === undefined) delete process.env.LW_STAGES;
  else process.env.LW_STAGES = saved;
});

async function prepare(words: Array<{ word: string; fail: boolean }>) {
  const stages = words.map(({ word, fail }) => `  ${word}: { uses: prog/say, params: { word: ${word}, fail: ${fail} } }`).join('\n');
  const { root, plugin, file } = pluginProject('lw-reuse-', stageModule, 'reuse', stages);
  const cache = new Cache(join(root, 'cache'));
  const { plan } = await loadPlan(file, [], cache, await loadRegistry(undefined, [plugin]));
  for (const t of plan.tasks) writeSpec(cache, plan, t);
  const tasks = plan.tasks.map((t) => ({ key: t.key, name: t.name, stageName: t.stageName, stage: t.stage, deps: t.deps }));
  return { cache, tasks };
}

async function runAll(executor: LocalExecutor): Promise<ExecEvent[]> {
  const events: ExecEvent[] = [];
  for (;;) {
    const { events: batch, settled } = await executor.poll(5000);
    events.push(...batch);
    if (settled) return events;
  }
}

const pids = (events: ExecEvent[], keys: string[]) => keys.map((k) => events.find((e) => e.key === k && e.type === 'started')).map((e) => (e as { where?: string } | undefined)?.where);

describe('local executor: children reused across tasks', () => {
  it('one child runs three tasks in turn, and each log holds only its own task output', async () => {
    const { cache, tasks } = await prepare([{ word: 'alpha', fail: false }, { word: 'beta', fail: false }, { word: 'gamma', fail: false }]);
    const executor = new LocalExecutor({ cache, jobs: 1 });
    await executor.submit(tasks);
    const events = await runAll(executor);
    expect(events.filter((e) => e.type === 'succeeded')).toHaveLength(3);
    const where = pids(events, tasks.map((t) => t.key));
    expect(where[0]).toMatch(/^pid \d+$/);
    expect(new Set(where).size).toBe(1);
    for (const [i, word] of ['alpha', 'beta', 'gamma'].entries()) {
      const log = readFileSync(cache.logPath(tasks[i].key), 'utf8');
      expect(log).toBe(`says ${word}\nstderr of ${word}\n`);
    }
  });

  it('starts ready tasks highest priority first, then in submission order', async () => {
    const { cache, tasks } = await prepare([{ word: 'alpha', fail: false }, { word: 'beta', fail: false }, { word: 'gamma', fail: false }, { word: 'delta', fail: false }]);
    const executor = new LocalExecutor({ cache, jobs: 1 });
    await executor.submit(tasks.map((t, i) => ({ ...t, priority: [1, 5, undefined, 5][i] })));
    const events = await runAll(executor);
    const names = new Map(tasks.map((t) => [t.key, t.name]));
    expect(events.filter((e) => e.type === 'started').map((e) => names.get(e.key))).toEqual(['beta', 'delta', 'alpha', 'gamma']);
  });

  it('a failed task fails alone, its log has the error, and its child is not reused', async () => {
    const { cache, tasks } = await prepare([{ word: 'alpha', fail: true }, { word: 'beta', fail: false }]);
    const executor = new LocalExecutor({ cache, jobs: 1 });
    await executor.submit(tasks);
    const events = await runAll(executor);
    const final = new Map(events.filter((e) => e.type === 'failed' || e.type === 'succeeded').map((e) => [e.key, e.type]));
    expect(final.get(tasks[0].key)).toBe('failed');
    expect(final.get(tasks[1].key)).toBe('succeeded');
    expect(readFileSync(cache.logPath(tasks[0].key), 'utf8')).toContain('told to fail');
    expect(readFileSync(cache.logPath(tasks[1].key), 'utf8')).toBe('says beta\nstderr of beta\n');
    const [first, second] = pids(events, tasks.map((t) => t.key));
    expect(first).not.toBe(second);
  });
});
