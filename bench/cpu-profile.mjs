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
