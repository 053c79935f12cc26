import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lw, project } from './helpers.js';

/**
 * Values in exec commands are data, never shell code (issue 17): hostile vars and matrix values
 * through the real `lw run`. Each command leaves what it saw under $DIR/seen/<task key>/; any
 * $DIR/pwned-* file means a value ran.
 */
const hostile = [
  '$(touch $DIR/pwned-subst)',
  '`touch $DIR/pwned-backtick`',
  'x; touch $DIR/pwned-semicolon',
  'x && touch $DIR/pwned-and',
  "it's'; touch $DIR/pwned-squote; '",
  'say "hi"; touch $DIR/pwned-dquote; "',
  'line one\ntouch $DIR/pwned-newline',
  '-n',
  '--version',
  '  two  spaces * $HOME ',
];

const seeCmd = [
  'printf %s ${v} > plain.txt',
  'printf %s "<${v}>" > dq.txt',
  "printf %s '[${v}]' > sq.txt",
  'printf %s ${tag} > tag.txt',
  'd="$LW_PIPELINE_DIR/seen/$LW_TASK_KEY" && mkdir -p "$d" && cp plain.txt dq.txt sq.txt tag.txt "$d"',
].join(' && ');

// JSON is YAML: every value goes into the file exactly as written here.
const pipeline = (tag: string) => `name: hostile
vars: { tag: ${JSON.stringify(tag)} }
stages:
  see:
    uses: exec
    matrix: { v: ${JSON.stringify(hostile)} }
    params: { cmd: ${JSON.stringify(seeCmd)}, outs: [plain.txt, dq.txt, sq.txt, tag.txt] }
  count:
    uses: exec
    matrix: { n: [2, 3] }
    params: { cmd: "echo $(( \${n} * \${n} )) \${n - 1} > sq.txt && cp sq.txt $LW_PIPELINE_DIR/square-\${n}", outs: [sq.txt] }
`;

function pwned(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.startsWith('pwned'));
}

describe('exec commands never run a value as shell code', () => {
  it('hostile vars and matrix values reach the command exactly, and none runs', async () => {
    const p = project(pipeline('$(touch $DIR/pwned-var)'));
    const r = await lw(['run', p.file, '--json'], p.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toEqual({ tasks: hostile.length + 2, ran: hostile.length + 2, cached: 0, failed: 0 });
    expect(pwned(p.dir)).toEqual([]);

    const expected = hostile.map((h) => h.replaceAll('$DIR', p.dir));
    const seen = readdirSync(join(p.dir, 'seen')).map((key) => {
      const read = (f: string) => readFileSync(join(p.dir, 'seen', key, f), 'utf8');
      return { plain: read('plain.txt'), dq: read('dq.txt'), sq: read('sq.txt'), tag: read('tag.txt') };
    });
    expect(seen.map((s) => s.plain).sort()).toEqual([...expected].sort());
    for (const s of seen) {
      expect(s.dq).toBe(`<${s.plain}>`);
      expect(s.sq).toBe(`[${s.plain}]`);
      expect(s.tag).toBe(`$(touch ${p.dir}/pwned-var)`);
    }
    // Numbers and lw's own arithmetic are written as they are, so the shell's $(( )) still works.
    expect(readFileSync(join(p.dir, 'square-2'), 'utf8')).toBe('4 1\n');
    expect(readFileSync(join(p.dir, 'square-3'), 'utf8')).toBe('9 2\n');
  });

  it('values are part of the cache key: a changed var reruns exactly the tasks whose command uses it', async () => {
    const p = project(pipeline('first'));
    expect((await lw(['run', p.file, '--json'], p.dir)).json).toMatchObject({ ran: hostile.length + 2 });
    p.write(pipeline('first; touch $DIR/pwned-second'));
    const dry = await lw(['run', p.file, '--dry-run', '--json'], p.dir);
    expect(dry.json).toEqual({ tasks: hostile.length + 2, toRun: hostile.length, cached: 2 });
    const again = await lw(['run', p.file, '--json'], p.dir);
    expect(again.json).toEqual({ tasks: hostile.length + 2, ran: hostile.length, cached: 2, failed: 0 });
    expect(pwned(p.dir)).toEqual([]);
  });

  it('a string in the shell arithmetic $(( )) is a planning error naming the place, and nothing runs', async () => {
    const p = project(`name: arith
vars: { n: "1)); touch $DIR/pwned-arith; echo $((1" }
stages:
  a: { uses: exec, params: { cmd: "echo $(( \${n} + 1 )) > n.txt", outs: [n.txt] } }
`);
    const r = await lw(['run', p.file], p.dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${p.file}:4:35: stage "a": "\${n}" sits inside the shell's arithmetic $(( )), where only integers may go`);
    expect(existsSync(join(p.dir, '.lw', 'cache', 'runs'))).toBe(false);
    expect(pwned(p.dir)).toEqual([]);
  });
});
