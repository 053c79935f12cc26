import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { e2e, needs } from '@lw/core/testing/system-parts';
import { EXECUTOR, keyOf, runOnSlurm, slurm, study } from './helpers.js';

// Slurm's shortest time limit is one minute and its limit check runs about every 30 s, so this
// takes one to two minutes: it runs where slow end-to-end checks run (LW_E2E, set by CI).
describe.skipIf(!(e2e() && needs(slurm)))('a task killed at its Slurm time limit', () => {
  it('is reported with the reason and log, and resumes from its checkpoint when resubmitted', async () => {
    // Counts to 100 in one-second steps with its count in $LW_SCRATCH; --time=1 stops it near 60.
    const s = study(`name: timeout
${EXECUTOR}
stages:
  count:
    uses: exec
    resources: { time: 1 }
    params:
      cmd: >-
        n=$(cat "$LW_SCRATCH/n" 2>/dev/null || echo 0); echo "from $n" > from.txt;
        while [ "$n" -lt 100 ]; do sleep 1 || exit 1; n=$((n + 1)); echo "$n" > "$LW_SCRATCH/n.tmp"; mv "$LW_SCRATCH/n.tmp" "$LW_SCRATCH/n"; done
      outs: [from.txt]
`);
    const first = await runOnSlurm(s);
    expect(first.summary).toMatchObject({ ran: 0, failed: 1 });
    const [failure] = first.summary.failures;
    expect(failure.reason).toMatch(/hit its time limit.*resumes from its last epoch checkpoint/);
    expect(readFileSync(failure.logPath!, 'utf8')).toMatch(/DUE TO TIME LIMIT/);

    const second = await runOnSlurm(s);
    expect(second.summary).toMatchObject({ ran: 1, failed: 0 });
    const from = Number(readFileSync(join(s.cache.entryDir(keyOf(second, 'count')), 'from.txt'), 'utf8').replace('from ', ''));
    expect(from).toBeGreaterThanOrEqual(50);
  }, 300_000);
});
