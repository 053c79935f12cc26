import { describe, expect, it } from 'vitest';
import { RunView } from './view.js';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { stream: { isTTY, columns: 80, write: (s: string) => chunks.push(s) }, text: () => chunks.join('') };
}

describe('run view', () => {
  const names = new Map([['k1', 'sweep[start=1]'], ['k2', 'sweep[start=2]'], ['k3', 'figures']]);
  it('prints plain lines per event and counts without terminal escapes when not a TTY', () => {
    const out = sink(false);
    const view = new RunView(out.stream, names, 5, 2, 'local');
    view.event({ type: 'started', key: 'k1' });
    view.event({ type: 'progress', key: 'k1', done: 3, total: 10 });
    view.event({ type: 'succeeded', key: 'k1' });
    view.event({ type: 'failed', key: 'k2', reason: 'exited with status 1', logPath: '/c/logs/k2.log' });
    view.event({ type: 'skipped', key: 'k3', reason: 'dependency failed' });
    view.finish();
    const text = out.text();
    expect(text).not.toContain('\x1b');
    expect(text).not.toContain('start  sweep[start=1]');
    expect(text).toContain('done   sweep[start=1]\n');
    expect(text).toContain('FAILED sweep[start=2]: exited with status 1\n       log: /c/logs/k2.log\n');
    expect(text.trim().split('\n').at(-1)).toMatch(/^\[local\] 3\/3 done, 2 cached, 0 running, 1 failed, 1 skipped, \d+s elapsed$/);
  });

  it('shows the epochs of running tasks in the live view on a TTY', () => {
    const out = sink(true);
    const view = new RunView(out.stream, names, 3, 0, 'local');
    view.event({ type: 'started', key: 'k1' });
    view.event({ type: 'progress', key: 'k1', done: 3, total: 10, note: 'loss 0.41' });
    view.event({ type: 'started', key: 'k2' });
    expect(out.text()).toContain('sweep[start=1] epoch 3/10 loss 0.41');
    expect(out.text()).toContain('\x1b[');
    view.finish();
  });
});
