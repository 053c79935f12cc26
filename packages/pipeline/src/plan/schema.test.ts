import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@lw/core';
import { pipelineJsonSchema } from './schema.js';

describe('pipeline file JSON Schema', () => {
  const dir = join(repoRoot(), 'pipelines');
  it('pipelines/schema.json is up to date (regenerate: npx lw schema --out pipelines/schema.json)', () => {
    expect(readFileSync(join(dir, 'schema.json'), 'utf8')).toBe(pipelineJsonSchema());
  });
  it('every pipeline file names it on its first line', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(readFileSync(join(dir, f), 'utf8').split('\n')[0], f).toBe('# yaml-language-server: $schema=./schema.json');
  });
  it('documents every stage key', () => {
    const schema = JSON.parse(pipelineJsonSchema());
    const stage = schema.properties.stages.additionalProperties;
    for (const key of ['uses', 'inputs', 'params', 'matrix']) expect(stage.properties[key].description, key).toBeTruthy();
  });
});
