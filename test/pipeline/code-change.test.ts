import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@lw/core';
import { lw } from './helpers.js';

/**
 * Two stage packages outside the workspace, registered through LW_STAGES: changing the built code
 * of the package a stage comes from reruns that stage's tasks (and their dependents); changing
 * an unrelated package reruns nothing.
 */
function stagePackage(root: string, name: string, id: string, version: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `@lwtest/${name}`, type: 'module', dependencies: { '@lw/core': '0.1.0' } }));
  writeFileSync(
    join(dir, 'dist', 'index.js'),
    `import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
export const stages = [{
  id: '${id}', description: 'test stage', packageName: '@lwtest/${name}', inputs: {},
  params: z.strictObject({ text: z.string() }),
  async run(ctx) {
    writeFileSync(join(ctx.outDir, 'out.txt'), ctx.params.text + ' ${version}');
    appendFileSync(process.env.LW_TEST_LOG, ctx.taskName + '\\n');
    return {};
  },
}];
`,
  );
  return join(dir, 'dist', 'index.js');
}

describe('code fingerprints through lw run', () => {
  it('reruns the tasks of a changed stage package only', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lw-pkgs-'));
    symlinkSync(join(repoRoot(), 'node_modules'), join(root, 'node_modules'));
    const a = stagePackage(root, 'a', 'alpha/write', 'v1');
    const b = stagePackage(root, 'b', 'beta/write', 'v1');
    const file = join(root, 'p.yaml');
    writeFileSync(
      file,
      `name: code
stages:
  w:
    uses: alpha/write
    matrix: { text: [x, y] }
    params: { text: "\${text}" }
  after:
    uses: exec
    inputs: { all: w }
    params: { cmd: "cat $LW_IN_ALL/*/out.txt > all.txt", outs: [all.txt] }
`,
    );
    const env = { LW_STAGES: `${a}:${b}`, LW_TEST_LOG: join(root, 'log.txt') };
    expect((await lw(['run', file, '--json'], root, env)).json).toEqual({ tasks: 3, ran: 3, cached: 0, failed: 0 });
    stagePackage(root, 'b', 'beta/write', 'v2');
    expect((await lw(['run', file, '--json'], root, env)).json).toEqual({ tasks: 3, ran: 0, cached: 3, failed: 0 });
    stagePackage(root, 'a', 'alpha/write', 'v2');
    const explained = await lw(['explain', file, 'w[text=x]', '--json'], root, env);
    expect((explained.json.changes as { path: string }[]).map((c) => c.path)).toEqual(['code']);
    expect((await lw(['run', file, '--json'], root, env)).json).toEqual({ tasks: 3, ran: 3, cached: 0, failed: 0 });
  });
});
