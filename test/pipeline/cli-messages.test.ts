import { describe, expect, it } from 'vitest';
import { lw, project } from './helpers.js';

/** What `lw` tells a user through the real CLI (issue 17, part 5): errors and listings. */
describe('lw run, stages and explain say what is wrong', () => {
  it('an unknown --executor is refused even when every task is cached', async () => {
    const p = project('name: x\nstages:\n  a: { uses: exec, params: { cmd: "touch a", outs: [a] } }\n');
    expect((await lw(['run', p.file, '--json'], p.dir)).json).toMatchObject({ ran: 1 });
    for (const extra of [[], ['--dry-run']]) {
      const r = await lw(['run', p.file, '--executor', 'slrum', ...extra], p.dir);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('error: --executor slrum: unknown executor\n  hint: executors: local, slurm\n');
    }
  });

  it('an empty file says so; a file with several errors lists them all, in file order', async () => {
    const p = project('# nothing yet\n');
    const empty = await lw(['run', p.file], p.dir);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(new RegExp(`^error: ${p.file}: the file is empty\n  hint: `));
    p.write('name: x\nstages:\n  a: { uses: exec, params: { cmd: "echo ${nope}" } }\n  b: { uses: nosuch }\n');
    const two = await lw(['run', p.file], p.dir);
    expect(two.code).toBe(1);
    expect(two.stderr.split('\n').filter((l) => !l.startsWith('    hint:'))).toEqual([
      `error: 2 errors in ${p.file}, in file order:`,
      `  ${p.file}:3:35: stage "a": undefined variable "nope" in "\${nope}"; no variables are defined here`,
      `  ${p.file}:4:14: stage "b" uses "nosuch", which is not a registered stage`,
      '',
    ]);
  });

  it('lw stages lists every param with its type, default and description, as the type-error hint promises', async () => {
    const p = project('name: x\nstages:\n  a: { uses: exec, params: { cmd: ls, outs: 3 } }\n');
    const bad = await lw(['run', p.file], p.dir);
    expect(bad.stderr).toContain('hint: see the stage\'s params with `lw stages exec`');
    const text = await lw(['stages', 'exec'], p.dir);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^exec +Run a shell command/);
    expect(lines.slice(1).map((l) => l.trim().split(/\s{2,}/).slice(0, 2))).toEqual([
      ['cmd', 'string, required'],
      ['env', '{ NAME: string|number|boolean }'],
      ['deps', 'string[], default []'],
      ['outs', 'string[], default []'],
    ]);
    expect(lines[4]).toContain('Paths (relative to the output directory) the command must produce.');
    const json = await lw(['stages', 'eval/rsa', '--json'], p.dir);
    const [rsa] = json.json as unknown as { id: string; params: { name: string; type: string; default?: unknown; description?: string }[] }[];
    expect(rsa.id).toBe('eval/rsa');
    expect(rsa.params[0]).toEqual({ name: 'metric', type: 'correlation|cosine|euclidean', required: false, default: 'correlation', description: expect.stringContaining('Model RDM dissimilarity') });
    expect(rsa.params.find((x) => x.name === 'permutations')).toMatchObject({ type: 'integer >= 0', default: 0 });
  });

  it('lw explain names the element of a list input that changed, not the two lists', async () => {
    const yaml = (values: string) => `name: t
stages:
  gen:
    uses: exec
    matrix: { i: ${values} }
    params: { cmd: "echo \${i} > v.txt", outs: [v.txt] }
  sum:
    uses: exec
    inputs: { parts: [gen] }
    params: { cmd: "cat $LW_IN_PARTS/*/v.txt > all.txt", outs: [all.txt] }
`;
    const p = project(yaml('[1, 2, 3, 4, 5, 6]'));
    expect((await lw(['run', p.file, '--json'], p.dir)).json).toMatchObject({ ran: 7 });
    p.write(yaml('[1, 2, 3, 9, 5, 6, 7]'));
    const e = await lw(['explain', p.file, 'sum'], p.dir);
    expect(e.code, e.stderr).toBe(0);
    const changes = e.stdout.trim().split('\n').slice(2);
    expect(changes).toHaveLength(2);
    expect(changes[0]).toMatch(/^ {2}inputs\.parts\[3\]: gen\[i=9\] key [0-9a-f]{12} -> [0-9a-f]{12}$/);
    expect(changes[1]).toMatch(/^ {2}inputs\.parts\[6\]: gen\[i=7\] added \(key [0-9a-f]{12}\)$/);
    const json = await lw(['explain', p.file, 'sum', '--json'], p.dir);
    expect(json.json.changes).toEqual([
      { path: 'inputs.parts[3]', before: expect.stringMatching(/^[0-9a-f]{12}$/), after: expect.stringMatching(/^[0-9a-f]{12}$/), task: 'gen[i=9]' },
      { path: 'inputs.parts[6]', before: null, after: expect.stringMatching(/^[0-9a-f]{12}$/), task: 'gen[i=7]' },
    ]);
  });
});
