import { describe, expect, it } from 'vitest';
import { isUserError } from '@lw/core';
import { applyOverrides } from './overrides.js';
import { plan, type Fingerprints } from './plan.js';
import { parseSource } from './source.js';
import { testRegistry } from '../testing/stages.js';

const fingerprints: Fingerprints = { code: (s) => `code-of-${s.def.id}`, file: () => 'f' };

function planText(text: string, sets: string[] = []) {
  const source = parseSource('p.yaml', text);
  return plan({ ...source, data: applyOverrides(source.data, sets) }, testRegistry(), fingerprints);
}

const sweep = `name: cp
vars: { epochs: 6 }
stages:
  data: { uses: exec, params: { cmd: "echo data" } }
  baseline:
    uses: train/fake
    inputs: { data: data }
    params: { epochs: "\${epochs}" }
  sweep:
    uses: train/fake
    inputs: { data: data, resume: "baseline@epoch(\${start} - 1)" }
    matrix: { type: [random_target, image_noise], start: "1..3" }
    params: { epochs: "\${epochs}", perturb: { type: "\${type}", start: "\${start}" } }
  per_type:
    uses: exec
    matrix: { type: [random_target, image_noise], start: "1..3" }
    inputs: { run: sweep }
    params: { cmd: "ls" }
  figures: { uses: exec, inputs: { runs: [sweep], baseline: baseline }, params: { cmd: "ls" } }
`;

describe('planner', () => {
  it("takes a task's resources from its stage, overridden by the file's resources block", () => {
    const text = (resources: string) => `name: r\nstages:\n  d: { uses: exec, params: { cmd: ls } }\n  cpu: { uses: train/fake, inputs: { data: d }, params: { epochs: 2 } }\n  gpu: { uses: train/fake, inputs: { data: d }, params: { epochs: 2, seed: 99 }${resources} }\n`;
    const byName = (p: ReturnType<typeof planText>) => new Map(p.tasks.map((t) => [t.name, t.resources]));
    expect(byName(planText(text('')))).toEqual(new Map([['d', undefined], ['cpu', undefined], ['gpu', { gpus: 1 }]]));
    expect(byName(planText(text(', resources: { gpus: 2, time: "1:00:00" }'))).get('gpu')).toEqual({ gpus: 2, time: '1:00:00' });
  });

  it('expands matrices, binds same-condition references and resolves checkpoints', () => {
    const p = planText(sweep);
    expect(p.stages.map((s) => [s.name, s.keys.length])).toEqual([['data', 1], ['baseline', 1], ['sweep', 6], ['per_type', 6], ['figures', 1]]);
    const byName = new Map(p.tasks.map((t) => [t.name, t]));
    const baseline = byName.get('baseline')!;
    expect(baseline.params).toEqual({ epochs: 6, seed: 1 });
    const s = byName.get('sweep[type=image_noise,start=3]')!;
    expect(s.params).toEqual({ epochs: 6, seed: 1, perturb: { type: 'image_noise', start: 3, length: 1 } });
    expect(s.inputs.resume).toMatchObject({ key: baseline.key, epoch: 2 });
    expect(s.keyInputs.inputs.resume).toEqual({ key: baseline.key, epoch: 2 });
    // The stage contract, not params.epochs: checkpoints 0..6, and work counted past the resumed checkpoint.
    expect(baseline).toMatchObject({ lastCheckpoint: 6, work: 6 });
    expect(s).toMatchObject({ lastCheckpoint: 6, work: 4 });
    expect(p.tasks.find((t) => t.stage === 'exec')!).toMatchObject({ work: 1 });
    expect(p.tasks.find((t) => t.stage === 'exec')!.lastCheckpoint).toBeUndefined();
    expect(byName.get('per_type[type=image_noise,start=3]')!.deps).toEqual([s.key]);
    const fig = byName.get('figures')!;
    expect((fig.inputs.runs as unknown[]).length).toBe(6);
    // Dependency order: every dep appears before its dependent.
    const seen = new Set<string>();
    for (const t of p.tasks) {
      for (const d of t.deps) expect(seen.has(d)).toBe(true);
      seen.add(t.key);
    }
  });

  it('changes exactly the keys downstream of a changed value', () => {
    const a = planText(sweep);
    const b = planText(sweep.replace('start: "1..3"', 'start: "1..2"').replace('start: "1..3"', 'start: "1..2"'));
    const c = planText(sweep, ['stages.figures.params.cmd=ls -l']);
    const keys = (p: typeof a) => new Map(p.tasks.map((t) => [t.name, t.key]));
    const [ka, kb, kc] = [keys(a), keys(b), keys(c)];
    expect(kb.get('sweep[type=random_target,start=1]')).toBe(ka.get('sweep[type=random_target,start=1]'));
    expect(kb.get('figures')).not.toBe(ka.get('figures'));
    const changed = [...ka].filter(([n, k]) => kc.get(n) !== k).map(([n]) => n);
    expect(changed).toEqual(['figures']);
  });

  it('writing a default explicitly gives the same key', () => {
    const a = planText(sweep);
    const b = planText(sweep, ['stages.baseline.params.seed=1']);
    expect(b.tasks.find((t) => t.name === 'baseline')!.key).toBe(a.tasks.find((t) => t.name === 'baseline')!.key);
  });

  it('matrix values may use vars', () => {
    const p = planText('name: x\nvars: { last: 4 }\nstages:\n  a: { uses: exec, matrix: { i: "2..${last}" }, params: { cmd: "echo ${i}" } }\n');
    expect(p.tasks.map((t) => t.params.cmd)).toEqual(['echo 2', 'echo 3', 'echo 4']);
  });

  it('--set overrides variables', () => {
    const p = planText(sweep, ['epochs=9']);
    expect(p.tasks.find((t) => t.name === 'baseline')!.params.epochs).toBe(9);
    expect(() => planText(sweep, ['epoch=9'])).toThrow('"epoch" is not a variable');
  });
});

/** Each bad file: the text, the `file:line:col` its error must start with, and words it must say. */
const bad: [string, string, string, string][] = [
  ['syntax error', 'name: x\nstages:\n  a: { uses: exec\n', 'p.yaml:4:1', 'YAML syntax error'],
  ['duplicate stage name', 'name: x\nstages:\n  a: { uses: exec, params: { cmd: ls } }\n  a: { uses: exec, params: { cmd: ls } }\n', 'p.yaml:4:3', 'Map keys must be unique'],
  ['unknown stage', 'name: x\nstages:\n  a:\n    uses: train/fak\n', 'p.yaml:4:11', 'did you mean "train/fake"'],
  ['unknown param', 'name: x\nstages:\n  d: { uses: exec, params: { cmd: ls } }\n  t:\n    uses: train/fake\n    inputs: { data: d }\n    params: { epochs: 3, epoch: 4 }\n', 'p.yaml:7:26', 'unknown param "epoch"'],
  ['wrong type', 'name: x\nstages:\n  d: { uses: exec, params: { cmd: ls } }\n  t:\n    uses: train/fake\n    inputs: { data: d }\n    params:\n      epochs: five\n', 'p.yaml:8:15', 'param "epochs"'],
  ['bad range', 'name: x\nstages:\n  a:\n    uses: exec\n    matrix:\n      i: "9..1"\n    params: { cmd: ls }\n', 'p.yaml:6:10', 'empty range "9..1"'],
  ['malformed range', 'name: x\nstages:\n  a:\n    uses: exec\n    matrix: { i: "1...5" }\n    params: { cmd: ls }\n', 'p.yaml:5:18', 'integer range such as "1..98"'],
  ['undefined variable', 'name: x\nstages:\n  a:\n    uses: exec\n    matrix: { start: [1] }\n    params: { cmd: "echo ${strat}" }\n', 'p.yaml:6:20', 'undefined variable "strat"'],
  ['cycle', 'name: x\nstages:\n  a: { uses: exec, inputs: { x: b }, params: { cmd: ls } }\n  b: { uses: exec, inputs: { x: a }, params: { cmd: ls } }\n', 'p.yaml:4:33', 'cycle: a -> b -> a'],
  ['missing stage', 'name: x\nstages:\n  a:\n    uses: exec\n    inputs: { x: [b, nope] }\n    params: { cmd: ls }\n  b: { uses: exec, params: { cmd: ls } }\n', 'p.yaml:5:22', 'stage "nope", which this file does not define'],
  ['epoch past the end', 'name: x\nstages:\n  d: { uses: exec, params: { cmd: ls } }\n  base: { uses: train/fake, inputs: { data: d }, params: { epochs: 3 } }\n  s:\n    uses: train/fake\n    matrix: { start: "1..5" }\n    inputs: { data: d, resume: "base@epoch(${start} - 1)" }\n    params: { epochs: 3 }\n', 'p.yaml:8:32', 'gives epoch 4, but base trains only 3 epochs'],
  ['checkpoint of a stage without checkpoints', 'name: x\nstages:\n  d: { uses: exec, params: { cmd: ls } }\n  t:\n    uses: train/fake\n    inputs: { data: d, resume: d@epoch(1) }\n    params: { epochs: 2 }\n', 'p.yaml:6:32', 'writes none'],
  ['negative epoch', 'name: x\nstages:\n  d: { uses: exec, params: { cmd: ls } }\n  base: { uses: train/fake, inputs: { data: d }, params: { epochs: 3 } }\n  s:\n    uses: train/fake\n    matrix: { start: "0..1" }\n    inputs:\n      data: d\n      resume: base@epoch(start - 1)\n    params: { epochs: 3 }\n', 'p.yaml:10:15', 'gives epoch -1'],
  ['unknown top-level key', 'name: x\nstage:\n  a: { uses: exec }\n', 'p.yaml:2:1', 'unknown key "stage"'],
  ['missing required input', 'name: x\nstages:\n  t:\n    uses: train/fake\n    params: { epochs: 2 }\n', 'p.yaml:4:5', 'required input "data"'],
  ['inexact division', 'name: x\nvars: { n: 7 }\nstages:\n  a: { uses: exec, params: { cmd: "${n / 2}" } }\n', 'p.yaml:4:35', '7 / 2 is not an integer'],
  ['missing uses', 'name: x\nstages:\n  a:\n    params: { cmd: ls }\n', 'p.yaml:4:5', 'stages.a.uses'],
  ['checkpoint input without epoch', 'name: x\nstages:\n  d: { uses: exec, params: { cmd: ls } }\n  t:\n    uses: train/fake\n    inputs: { data: d, resume: d }\n    params: { epochs: 2 }\n', 'p.yaml:6:32', 'must name one checkpoint'],
  ['unknown input', 'name: x\nstages:\n  d: { uses: exec, params: { cmd: ls } }\n  t:\n    uses: train/fake\n    inputs: { dat: d }\n    params: { epochs: 2 }\n', 'p.yaml:6:15', 'has no input "dat"'],
];

describe('bad pipeline files', () => {
  it.each(bad)('%s', (_what, text, where, words) => {
    let error: unknown;
    try {
      planText(text);
    } catch (e) {
      error = e;
    }
    expect(isUserError(error)).toBe(true);
    const message = (error as Error).message;
    expect(message.startsWith(`${where}: `), `${message} should start with ${where}`).toBe(true);
    expect(`${message} ${(error as { hint?: string }).hint}`).toContain(words);
    expect(message).not.toContain('\n');
    expect((error as { hint?: string }).hint ?? '').not.toBe('');
  });
});

describe('a file with several errors', () => {
  it('reports every one, in file order, once per place (not once per matrix condition)', () => {
    const text = [
      'name: x',
      'stages:',
      '  a: { uses: exec, params: { cmd: "echo ${nope}" } }',
      '  b: { uses: nosuch }',
      '  c: { uses: exec, params: { cmd: ls, bogus: 1, other: 2 } }',
      '  d: { uses: exec, inputs: { x: missing }, params: { cmd: ls } }',
      '  e: { uses: exec, inputs: { x: d }, params: { cmd: ls, also: 1 } }',
      '  s: { uses: exec, matrix: { i: [1, 2, 3] }, params: { cmd: "echo ${i} ${j}" } }',
      '',
    ].join('\n');
    let error: Error | undefined;
    try {
      planText(text);
    } catch (e) {
      error = e as Error;
    }
    expect(isUserError(error)).toBe(true);
    const lines = error!.message.split('\n').filter((l) => !l.startsWith('    hint: '));
    expect(lines).toEqual([
      '7 errors in p.yaml, in file order:',
      '  p.yaml:3:35: stage "a": undefined variable "nope" in "${nope}"; no variables are defined here',
      '  p.yaml:4:14: stage "b" uses "nosuch", which is not a registered stage',
      '  p.yaml:5:39: stage "c": unknown param "bogus"',
      '  p.yaml:5:49: stage "c": unknown param "other"',
      '  p.yaml:6:33: stage "d": input "x" refers to stage "missing", which this file does not define',
      // e reads d, which failed: its own params are still checked
      '  p.yaml:7:57: stage "e": unknown param "also"',
      '  p.yaml:8:61: stage "s" (condition i=1): undefined variable "j" in "${j}"; defined here: i',
    ]);
    expect(error!.message).toContain('\n    hint: registered stages: ');
  });

  it('every schema error at once, and "the file is empty" for a file with nothing in it', () => {
    expect(() => planText('name: "bad name!"\nstages:\n  a: { uses: 3 }\n')).toThrow(/^2 errors in p\.yaml, in file order:\n  p\.yaml:1:7: name: expected a name of letters, digits, _ and -\n.*\n  p\.yaml:3:14: stages\.a\.uses: expected string, received number/);
    for (const empty of ['', '\n\n', '# only a comment\n', '---\n']) {
      expect(() => planText(empty)).toThrow(expect.objectContaining({ message: 'p.yaml: the file is empty', hint: expect.stringContaining('name:') }));
    }
  });
});
