// A V8 CPU profile of part of a run (node:inspector), for the GPU benches: `node --cpu-prof` profiles the
// whole process (model setup included) and cannot be passed through gpu-kit's run.sh.
import { writeFileSync } from 'node:fs';

/** Starts sampling (every 200 us); `stop(path)` writes the .cpuprofile (open it in Chrome DevTools). */
export async function startCpuProfile() {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  return {
    async stop(path) {
      const { profile } = await post('Profiler.stop');
      writeFileSync(path, JSON.stringify(profile));
      session.disconnect();
      console.log(`cpu profile: ${path}`);
    },
  };
}

/**
 * The functions that took the most time in a .cpuprofile: self time (where the samples landed) and
 * total time (self plus callees), in ms, by `name (file:line)`.
 */
export function summarizeCpuProfile(profile, top = 25) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const dt = new Map();
  profile.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const label = (n) => `${n.callFrame.functionName || '(anonymous)'} (${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber + 1})`;
  const self = new Map(), total = new Map();
  for (const [id, ms] of dt) {
    const n = byId.get(id);
    self.set(label(n), (self.get(label(n)) ?? 0) + ms);
    const seen = new Set();
    for (let cur = id; cur != null; cur = parent.get(cur)) {
      const l = label(byId.get(cur));
      if (!seen.has(l)) { seen.add(l); total.set(l, (total.get(l) ?? 0) + ms); }
    }
  }
  const sorted = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { sampledMs: [...dt.values()].reduce((a, b) => a + b, 0), self: sorted(self), total: sorted(total) };
}

// `node bench/cpu-profile.mjs FILE.cpuprofile [top]`: prints the summary.
if (process.argv[1]?.endsWith('cpu-profile.mjs') && process.argv[2]) {
  const { readFileSync } = await import('node:fs');
  const s = summarizeCpuProfile(JSON.parse(readFileSync(process.argv[2], 'utf8')), Number(process.argv[3] ?? 25));
  console.log(`sampled ${s.sampledMs.toFixed(0)} ms\nself:`);
  for (const [l, ms] of s.self) console.log(`${ms.toFixed(1).padStart(9)} ms  ${l}`);
  console.log('total:');
  for (const [l, ms] of s.total) console.log(`${ms.toFixed(1).padStart(9)} ms  ${l}`);
}
