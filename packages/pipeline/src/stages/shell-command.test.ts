import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interpolateCommand, interpolateExecParams } from './shell-command.js';

/** Runs the interpolated command under /bin/sh, as the exec stage does; returns its stdout. */
function sh(template: string, vars: Record<string, string | number | boolean>): string {
  const { cmd, env } = interpolateCommand(template, vars);
  const r = spawnSync('/bin/sh', ['-c', cmd], { env: { ...process.env, ...env }, encoding: 'utf8' });
  expect(r.status, `${cmd}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

const dir = mkdtempSync(join(tmpdir(), 'lw-shell-'));
const hostile = [
  `$(touch ${dir}/a)`,
  `\`touch ${dir}/b\``,
  `x; touch ${dir}/c`,
  `x && touch ${dir}/d`,
  `it's'; touch ${dir}/e; '`,
  `say "hi"; touch ${dir}/f; "`,
  `line one\ntouch ${dir}/g`,
  '-n',
  '  two  spaces * $HOME \\ ',
];

describe('interpolateCommand: values are data, never code', () => {
  it.each(hostile)('%j reaches the command exactly, unquoted, in "..." and in \'...\'', (v) => {
    expect(sh(`printf '%s|' \${v} "<\${v}>" '[\${v}]' x\${v}y`, { v })).toBe(`${v}|<${v}>|[${v}]|x${v}y|`);
    expect(sh('printf %s "$(printf %s "${v}")"', { v })).toBe(v);
    expect(sh('printf %s "`printf %s ${v}`"', { v })).toBe(v);
    expect(sh('x=`printf %s ${v}`; printf %s "$x"', { v })).toBe(v);
    for (const f of 'abcdefg') expect(existsSync(join(dir, f)), f).toBe(false);
  });

  it('passes strings as LW_VAR_<NAME> and writes numbers, booleans and arithmetic as they are', () => {
    expect(interpolateCommand('echo ${tag} ${n} ${flag} ${n - 1} > t.txt', { tag: '$(x)', n: 5, flag: true })).toEqual({
      cmd: 'echo "${LW_VAR_TAG}" 5 true 4 > t.txt',
      env: { LW_VAR_TAG: '$(x)' },
    });
    expect(interpolateCommand("echo '${tag}' \"${tag}\"", { tag: 'v' }).cmd).toBe(`echo ''"\${LW_VAR_TAG}"'' "\${LW_VAR_TAG}"`);
  });

  it('inside the shell arithmetic $(( )) takes integers only', () => {
    expect(sh('echo $(( ${n} * ${n} )) $(( (${m} + 1) * 2 )) $(( ${k} - 1 ))', { n: 3, m: '4', k: -2 })).toBe('9 10 -3\n');
    expect(() => interpolateCommand('echo $(( ${v} + 1 ))', { v: 'a[$(touch /tmp/x)]' })).toThrow(/inside the shell's arithmetic \$\(\( \)\), where only integers may go, but it is "a\[\$\(touch \/tmp\/x\)\]"/);
    // after the arithmetic closes, quoting is back
    expect(interpolateCommand('echo $((1 + (2))) ${v}', { v: 's' }).cmd).toBe('echo $((1 + (2))) "${LW_VAR_V}"');
  });

  it('keeps a backslashed \\${ literal, and refuses two variables that would share one name', () => {
    expect(sh('printf %s \\${v}', { v: 'x' })).toBe('${v}');
    expect(() => interpolateCommand('echo ${tag} ${TAG}', { tag: 'a', TAG: 'b' })).toThrow('variables "tag" and "TAG" would both reach the command as $LW_VAR_TAG');
  });
});

describe('interpolateExecParams', () => {
  it('joins the values to env (they are part of the cache key) and interpolates the other params as usual', () => {
    expect(interpolateExecParams({ cmd: 'cp ${src} ${out}', outs: ['${out}'], env: { MODE: '${n}' } }, { src: 'a b', out: 'o.txt', n: 2 })).toEqual({
      cmd: 'cp "${LW_VAR_SRC}" "${LW_VAR_OUT}"',
      outs: ['o.txt'],
      env: { MODE: 2, LW_VAR_SRC: 'a b', LW_VAR_OUT: 'o.txt' },
    });
  });

  it('names the param of an error', () => {
    expect(() => interpolateExecParams({ cmd: 'echo ${nope}' }, {})).toThrow(expect.objectContaining({ path: ['cmd'], message: expect.stringContaining('undefined variable "nope"') }));
    expect(() => interpolateExecParams({ cmd: 'echo ${a}', env: { LW_VAR_A: 'x' } }, { a: 'y' })).toThrow(expect.objectContaining({ path: ['env', 'LW_VAR_A'] }));
  });
});
