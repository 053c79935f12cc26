// What each finished task of a cache took: result.json (the runner's start, end, seconds, summary) and
// task.log (the behaviour stage's `setup:`, `loop setup:`, per-epoch and `teardown:` lines).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function readTasks(cacheDir) {
  const out = [];
  for (const a of readdirSync(cacheDir)) {
    if (!/^[0-9a-f]{2}$/.test(a)) continue;
    for (const key of readdirSync(join(cacheDir, a))) {
      const dir = join(cacheDir, a, key), resFile = join(dir, 'result.json');
      if (!existsSync(resFile)) continue;
      const r = JSON.parse(readFileSync(resFile, 'utf8'));
      const log = existsSync(join(dir, 'task.log')) ? readFileSync(join(dir, 'task.log'), 'utf8') : '';
      // the GPU the local executor pinned the task to, as its backend recorded it (params.json)
      let gpu = null;
      try { gpu = JSON.parse(readFileSync(join(dir, 'params.json'), 'utf8')).backend?.gpu ?? null; } catch { /* not a training task */ }
      const epochs = [...log.matchAll(/^epoch (\d+): .*?(\[(\w+)\] )?([\d.]+)s$/gm)].map((m) => ({ epoch: Number(m[1]), perturbed: m[3] ?? null, seconds: Number(m[4]) }));
      const setup = {};
      const s = /^setup: (.*)$/m.exec(log);
      if (s) for (const part of s[1].split(', ')) { const [k, v] = part.split(' '); setup[k] = parseFloat(v); }
      const loopSetup = /^loop setup: ([\d.]+)s$/m.exec(log);
      const teardown = /^teardown: ([\d.]+)s$/m.exec(log);
      out.push({
        key, name: r.name, stage: r.stage, gpu, started: Date.parse(r.started), finished: Date.parse(r.finished), seconds: r.seconds,
        epochs, setup, loopSetup: loopSetup ? Number(loopSetup[1]) : undefined, teardown: teardown ? Number(teardown[1]) : undefined,
      });
    }
  }
  return out.sort((a, b) => a.started - b.started);
}

/** Task time outside its epochs, and where it went. */
export function overheadOf(task) {
  const inEpochs = task.epochs.reduce((a, e) => a + e.seconds, 0);
  return { seconds: task.seconds - inEpochs, ...task.setup, loopSetup: task.loopSetup, teardown: task.teardown };
}

export const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
export const range = (xs) => (xs.length ? [Math.min(...xs), Math.max(...xs)] : [NaN, NaN]);
