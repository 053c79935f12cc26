// Host and GPU memory over time while `lw run` works: the resident memory of its whole process tree
// (from /proc, every 0.5 s) and the GPU's memory in use (nvidia-smi, when there is one).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

function rssTreeMB(root) {
  const parent = new Map(), rss = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${d}/status`, 'utf8'));
      rss.set(Number(d), m ? Number(m[1]) / 1024 : 0);
    } catch { /* gone */ }
  }
  let total = 0;
  for (const [pid, mb] of rss) {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = parent.get(p) ?? 0, hops++) if (p === root) { total += mb; break; }
  }
  return total;
}

export function startSampler(rootPid, everyMs = 500) {
  const t0 = Date.now();
  const samples = [];
  let gpuMB = null;
  let smi;
  try {
    smi = spawn('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits', `-lms`, String(everyMs)], { stdio: ['ignore', 'pipe', 'ignore'] });
    smi.on('error', () => { smi = undefined; });
    smi.stdout.on('data', (b) => { const v = Number(String(b).trim().split('\n').at(-1).split(',')[0]); if (Number.isFinite(v)) gpuMB = v; });
  } catch { smi = undefined; }
  const timer = setInterval(() => samples.push({ t: Date.now(), hostMB: rssTreeMB(rootPid), gpuMB }), everyMs);
  return {
    samples,
    stop() { clearInterval(timer); smi?.kill(); return { t0, samples }; },
  };
}

/** Peak host and GPU MB of the samples in [from, to] (ms since the epoch). */
export function peakIn(samples, from, to) {
  let host = 0, gpu = null;
  for (const s of samples) if (s.t >= from && s.t <= to) { host = Math.max(host, s.hostMB); if (s.gpuMB !== null) gpu = Math.max(gpu ?? 0, s.gpuMB); }
  return { hostMB: Math.round(host), gpuMB: gpu };
}

/** The GPU MB sampled nearest to time t. */
export function gpuAt(samples, t) {
  let best = null, dist = Infinity;
  for (const s of samples) if (s.gpuMB !== null && Math.abs(s.t - t) < dist) { dist = Math.abs(s.t - t); best = s.gpuMB; }
  return best;
}
