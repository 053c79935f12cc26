import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '@lw/core';
import { loadRegistry, type Registry } from '../stages/registry.js';
import { pipelineJsonSchema } from './schema.js';

describe('pipeline file JSON Schema', () => {
  const dir = join(repoRoot(), 'pipelines');
  let registry: Registry;
  let schema: Record<string, any>;
  beforeAll(async () => {
    registry = await loadRegistry(undefined, []);
    schema = JSON.parse(pipelineJsonSchema(registry));
  });
  /** Errors of one pipeline file (parsed YAML) against the schema, as `path: message`. */
  const errorsOf = (file: unknown): string[] => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    return validate(file) ? [] : validate.errors!.map((e) => `${e.instancePath}: ${e.message}`);
  };
  const sweep = () => parse(readFileSync(join(dir, 'sweep.yaml'), 'utf8'));

  it('pipelines/schema.json is up to date (regenerate: npx lw schema --out pipelines/schema.json)', () => {
    expect(readFileSync(join(dir, 'schema.json'), 'utf8')).toBe(pipelineJsonSchema(registry));
  });
  it('every pipeline file names it on its first line, and validates against it', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text.split('\n')[0], f).toBe('# yaml-language-server: $schema=./schema.json');
      expect(errorsOf(parse(text)), f).toEqual([]);
    }
  });
  it('documents every stage key', () => {
    const stage = schema.properties.stages.additionalProperties;
    for (const key of ['uses', 'inputs', 'params', 'matrix']) expect(stage.properties[key].description, key).toBeTruthy();
  });
  it("has every registered stage's params, chosen by uses, so an editor completes them", () => {
    const rules = schema.properties.stages.additionalProperties.allOf as Array<{ if: any; then: any }>;
    expect(rules.map((r) => r.if.properties.uses.const)).toEqual([...registry.keys()].sort());
    const behavior = rules.find((r) => r.if.properties.uses.const === 'train/behavior')!.then.properties.params;
    expect(Object.keys(behavior.properties)).toEqual(expect.arrayContaining(['epochs', 'lr', 'batchSize', 'perturb']));
    expect(behavior.properties.perturb.properties.start.description ?? behavior.properties.perturb.properties.start).toBeTruthy();
  });
  it('flags a wrong param type and an unknown param, and accepts ${...} where a number goes', () => {
    const file = sweep();
    expect(errorsOf(file)).toEqual([]);
    file.stages.baseline.params.lr = 'fast';
    file.stages.sweep.params.perturb.start = true;
    file.stages.baseline.params.epoch = 3;
    const errors = errorsOf(file);
    expect(errors).toEqual(expect.arrayContaining([
      expect.stringMatching(/^\/stages\/baseline\/params\/lr: /),
      expect.stringMatching(/^\/stages\/sweep\/params\/perturb\/start: /),
      '/stages/baseline/params: must NOT have additional properties',
    ]));
    const fixed = sweep();
    fixed.stages.baseline.params.lr = 0.01;
    fixed.stages.baseline.params.epochs = '${epochs} + 1';
    expect(errorsOf(fixed)).toEqual([]);
  });
});
