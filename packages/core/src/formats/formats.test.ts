import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isUserError } from '../errors.js';
import { perturbationKinds } from '../perturbation.js';
import { packageVersions, provenancePackages } from '../versions.js';
import { behaviorMetricsColumns, perturbationFlagColumns, studyMetricsColumns } from './metrics.js';
import { readTaskParamsFile, TASK_PARAMS_FILE, writeTaskParamsFile } from './task-params.js';
import { readTaskResultFile, TASK_RESULT_FILE, writeTaskResultFile } from './task-result.js';

const dir = () => mkdtempSync(join(tmpdir(), 'lw-formats-'));

describe('params.json', () => {
  it('reads back what was written, extra recorded fields included; absent is undefined', () => {
    const d = dir();
    expect(readTaskParamsFile(d)).toBeUndefined();
    const body = { stage: 'train/behavior', params: { epochs: 3 }, versions: { node: '20.0.0' }, backend: { name: 'wasm', threads: 2 }, model: 'tiny-clip' };
    writeTaskParamsFile(d, body);
    expect(readTaskParamsFile(d)).toEqual(body);
  });

  it('rejects a malformed file with a message naming the file and the field', () => {
    const d = dir();
    writeFileSync(join(d, TASK_PARAMS_FILE), JSON.stringify({ stage: 'train/behavior', params: { epochs: 3 }, versions: { node: 20 } }));
    const err = (() => { try { readTaskParamsFile(d); } catch (e) { return e; } })();
    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toMatch(new RegExp(`^${join(d, TASK_PARAMS_FILE)}: field versions\\.node: `));
    writeFileSync(join(d, TASK_PARAMS_FILE), '{ "stage": ');
    expect(() => readTaskParamsFile(d)).toThrow(`${join(d, TASK_PARAMS_FILE)}: not valid JSON`);
  });
});

describe('result.json', () => {
  const result = { key: 'k'.repeat(64), name: 'sweep[start=1]', stage: 'train/behavior', summary: { epochs: 3 }, started: '2026-01-01T00:00:00.000Z', finished: '2026-01-01T00:00:01.000Z', seconds: 1, host: 'h' };

  it('reads back what was written', () => {
    const d = dir();
    writeTaskResultFile(d, result);
    expect(readTaskResultFile(d)).toEqual(result);
  });

  it('rejects a file without a field, naming file and field', () => {
    const d = dir();
    const { host: _host, ...noHost } = result;
    writeFileSync(join(d, TASK_RESULT_FILE), JSON.stringify(noHost));
    expect(() => readTaskResultFile(d)).toThrow(`${join(d, TASK_RESULT_FILE)}: field host: `);
  });
});

describe('metrics columns', () => {
  it('the behaviour layout is the study\'s five columns and one flag per perturbation kind', () => {
    expect(behaviorMetricsColumns).toEqual([...studyMetricsColumns, 'used_random_targets', 'used_shuffled_targets', 'used_uniform_images', 'used_image_noise']);
    expect(perturbationFlagColumns.map(([, kind]) => kind).sort()).toEqual([...perturbationKinds].sort());
  });
});

describe('packageVersions', () => {
  it('gives node and every package, unknown for one that does not resolve', () => {
    const v = packageVersions([...provenancePackages, 'no-such-package-lw']);
    expect(v.node).toBe(process.versions.node);
    expect(v['@lw/core']).toMatch(/^\d+\.\d+\.\d+/);
    expect(v['no-such-package-lw']).toBe('unknown');
    expect(Object.keys(v)).toEqual(['node', ...provenancePackages, 'no-such-package-lw']);
  });
});
