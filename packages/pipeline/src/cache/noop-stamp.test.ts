import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkStamp, writeStamp, type NoopArgs } from './noop-stamp.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('the no-op stamp of lw run', () => {
  it('answers for the installation that wrote it, not for another checkout of the tool on the same cache', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-noop-'));
    const text = 'name: p\nstages: {}\n';
    const file = join(dir, 'p.yaml');
    writeFileSync(file, text);
    const results = join(dir, 'results', 'p');
    mkdirSync(results, { recursive: true });
    writeFileSync(join(results, 'results.json'), '{}');
    const args: NoopArgs = { file, cacheDir: join(dir, 'cache'), sets: [], resultsRoot: join(dir, 'results') };
    writeStamp(args, { fileSha: sha(text), watched: [], keys: [], entries: [], stages: [], resultsDir: results, resultsSha: sha('{}') });
    expect(checkStamp(args)).toBeDefined();
    // Its watched code files are the writer's: another installation's code is not among them.
    expect(checkStamp({ ...args, tool: '/elsewhere/learning-windows/packages/pipeline/dist/cache/noop-stamp.js' })).toBeUndefined();
    expect(checkStamp({ ...args, sets: ['epochs=5'] })).toBeUndefined();
    writeFileSync(file, text + '# edited\n');
    expect(checkStamp(args)).toBeUndefined();
  });
});
