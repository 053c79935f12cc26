import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@lw/core';
import { lw } from './helpers.js';

/**
 * A task that succeeds but reports problems in its summary (as the analysis does when it skips
 * inputs) must not leave a run reading "0 failed" and nothing else: the summary line names the
 * problems and `--json` counts them, on the run and on the no-op rerun answered from the stamp.
 */
function stagePackage(root: string): string {
  const dir = join(root, 'p');
  mkdirSync(join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@lwtest/p', type: 'module', dependencies: { '@lw/core': '0.1.0' } }));
  writeFileSync(
    join(dir, 'dist', 'index.js'),
    `import { z } from 'zod';
export const stages = [{
  id: 'test/report', description: 'reports problems', packageName: '@lwtest/p', inputs: {},
  params: z.strictObject({ problems: z.number().int() }),
  async run(ctx) {
    return { problems: ctx.params.problems };
  },
}];
`,
  );
  return join(dir, 'dist', 'index.js');
}

describe('lw run counts the problems tasks report', () => {
  it('says "N problems in <task>" and {"problems": N}, also when answered from the stamp', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lw-problems-'));
    symlinkSync(join(repoRoot(), 'node_modules'), join(root, 'node_modules'));
    const file = join(root, 'p.yaml');
    writeFileSync(file, 'name: probs\nstages:\n  clean: { uses: test/report, params: { problems: 0 } }\n  report: { uses: test/report, params: { problems: 2 } }\n');
    const env = { LW_STAGES: stagePackage(root) };
    const first = await lw(['run', file, '--json'], root, env);
    expect(first.json).toEqual({ tasks: 2, ran: 2, cached: 0, failed: 0, problems: 2 });
    expect(first.stderr).toMatch(/2 tasks: 2 ran, 0 cached, 0 failed, 2 problems in report; results in /);
    expect(first.stderr).toContain('problems: report reported 2');
    const again = await lw(['run', file, '--json'], root, env);
    expect(again.json).toEqual({ tasks: 2, ran: 0, cached: 2, failed: 0, problems: 2 });
    expect(again.stderr).toMatch(/0 failed, 2 problems in report;/);
    // A clean run keeps the JSON it always printed.
    writeFileSync(file, 'name: probs\nstages:\n  clean: { uses: test/report, params: { problems: 0 } }\n');
    expect((await lw(['run', file, '--json'], root, env)).json).toEqual({ tasks: 1, ran: 0, cached: 1, failed: 0 });
  });
});
