import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lw, project } from './helpers.js';

// A researcher edits the pipeline file while a run is going. The run finishes what it planned; the
// next run must see the edit (the no-op fast path must not trust the file as it was at the end).
describe('editing the pipeline file during a run', () => {
  it('the next run plans from the edited file, not from the run stamp', async () => {
    const p = project(`name: t
vars: { n: 1 }
stages:
  a:
    uses: exec
    params: { cmd: "echo \${n} > n.txt && sed -i 's/n: 1 }/n: 2 }/' $DIR/p.yaml", outs: [n.txt] }
`);
    const first = await lw(['run', p.file, '--json'], p.dir);
    expect(first.json).toMatchObject({ tasks: 1, ran: 1, failed: 0 });
    expect(readFileSync(p.file, 'utf8')).toContain('vars: { n: 2 }');
    // The edited file's task (n = 2) is not in the cache: it must run, not be answered as cached.
    const second = await lw(['run', p.file, '--json'], p.dir);
    expect(second.json).toMatchObject({ tasks: 1, ran: 1, cached: 0 });
    const third = await lw(['run', p.file, '--json'], p.dir);
    expect(third.json).toMatchObject({ tasks: 1, ran: 0, cached: 1 });
  });
});
