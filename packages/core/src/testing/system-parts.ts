import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * For tests only (not exported from the package index): the parts of a machine beyond Node and
 * npm that some tests need (Chromium, PyTorch, Slurm, lavapipe, or time for the slow end-to-end
 * runs). On a bare machine `npm test` skips those tests, and each test file says why in one line
 * on stderr: which part is missing and how to get it. Where the part's `LW_REQUIRE_*` variable is
 * set (`.ci/run` sets them all), a missing part fails the file instead, so CI never skips silently.
 *
 *   const hasChromium = needs(chromium);
 *   describe.skipIf(!hasChromium)('report.html in headless Chromium', ...);
 */
export interface SystemPart {
  /** For people: "Chromium", "PyTorch and numpy". */
  name: string;
  /** The variable that makes a missing part a failure, e.g. `LW_REQUIRE_CHROMIUM`. */
  require: string;
  /** How to get the part, e.g. "apt-get install chromium". */
  howTo: string;
  /** undefined when the part is usable here; otherwise what is missing, in a few words. */
  missing(): string | undefined;
}

/**
 * Whether the tests that need `part` can run here. When it is missing: with its LW_REQUIRE_*
 * variable set this throws (the file fails, naming the part and how to get it); without, it prints
 * one `skipped: ...` line (vitest's default reporter shows a file's stderr, not skipped tests' names).
 */
export function needs(part: SystemPart, env: NodeJS.ProcessEnv = process.env): boolean {
  const missing = part.missing();
  if (missing === undefined) return true;
  const what = `needs ${part.name} (${missing}): ${part.howTo}`;
  if (isSet(env[part.require])) throw new Error(`${part.require} is set, but this test ${what}`);
  console.warn(`skipped: ${what}, or set ${part.require}=1 to fail instead`);
  return false;
}

/**
 * Whether an opt-in group of tests runs (the slow end-to-end checks: LW_E2E, which CI sets); if
 * not, one `skipped: ...` line says how to run it.
 */
export function optedIn(variable: string, what: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (isSet(env[variable])) return true;
  console.warn(`skipped: ${what}: set ${variable}=1 to run it`);
  return false;
}

/** `LW_E2E` gates the slow end-to-end runs (minutes each). */
export const e2e = (env: NodeJS.ProcessEnv = process.env): boolean => optedIn('LW_E2E', 'slow end-to-end test (minutes)', env);

function isSet(v: string | undefined): boolean {
  return v !== undefined && v !== '' && v !== '0';
}

/** Debian's Chromium, at /usr/bin/chromium unless LW_CHROMIUM names another binary. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.LW_CHROMIUM || '/usr/bin/chromium';
}

export const chromium: SystemPart = {
  name: 'Chromium',
  require: 'LW_REQUIRE_CHROMIUM',
  howTo: 'apt-get install chromium (or point LW_CHROMIUM at a Chromium binary)',
  missing: () => (existsSync(chromiumPath()) ? undefined : `${chromiumPath()} not found`),
};

/**
 * The Python that reads our files back with PyTorch: Debian's python3-torch lives in
 * /usr/bin/python3 (a venv's python3 on PATH usually lacks it); LW_PYTHON names another.
 */
export function pythonPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.LW_PYTHON || '/usr/bin/python3';
}

/** Why `python` cannot import torch and numpy, in one line (the last line of its traceback), or undefined. */
export function torchMissing(python: string = pythonPath()): string | undefined {
  const r = spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  if (r.error) return `${python}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : r.error.message}`;
  if (r.status === 0) return undefined;
  const last = (r.stderr ?? '').trim().split('\n').at(-1)?.trim();
  return `${python}: ${last || `exit status ${r.status ?? r.signal}`}`;
}

let torchProbe: { python: string; missing: string | undefined } | undefined;

export const pytorch: SystemPart = {
  name: 'PyTorch and numpy',
  require: 'LW_REQUIRE_TORCH',
  howTo: 'apt-get install python3-torch python3-numpy (or point LW_PYTHON at a python3 that has them)',
  missing: () => {
    const python = pythonPath();
    if (torchProbe?.python !== python) torchProbe = { python, missing: torchMissing(python) };
    return torchProbe.missing;
  },
};

/**
 * Mesa's lavapipe (a software Vulkan driver) for the WebGPU kernel tests: `LW_LAVAPIPE_DIR`
 * (default /tmp/gpu-kit-lavapipe) as set up by ../shared/tools/gpu-kit/lavapipe.sh plus libvulkan1
 * unpacked into DIR/root, as `.ci/run` does.
 */
export function lavapipeDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.LW_LAVAPIPE_DIR || '/tmp/gpu-kit-lavapipe';
}

export const lavapipe: SystemPart = {
  name: 'lavapipe (software WebGPU)',
  require: 'LW_REQUIRE_WEBGPU',
  howTo: `bash ../shared/tools/gpu-kit/lavapipe.sh ${lavapipeDir()} and unpack libvulkan1 into ${lavapipeDir()}/root, as .ci/run does (LW_LAVAPIPE_DIR names another folder)`,
  missing: () => (existsSync(join(lavapipeDir(), 'env.sh')) ? undefined : `${join(lavapipeDir(), 'env.sh')} not found`),
};

/**
 * The environment of a child process that runs on lavapipe: this process's, plus the variables
 * DIR/env.sh exports (`export NAME=value`, ${VAR:+:$VAR} tails dropped: LD_LIBRARY_PATH is prepended
 * to ours here instead).
 */
export function lavapipeEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const line of readFileSync(join(lavapipeDir(env), 'env.sh'), 'utf8').split('\n')) {
    const m = /^export (\w+)=([^$]*)/.exec(line.trim());
    if (!m) continue;
    out[m[1]!] = m[1] === 'LD_LIBRARY_PATH' && env.LD_LIBRARY_PATH ? `${m[2]}:${env.LD_LIBRARY_PATH}` : m[2];
  }
  return out;
}

/** A Slurm controller this machine can reach; the probe (sbatch and squeue) is the caller's, as it is async. */
export function slurmPart(reachable: boolean): SystemPart {
  return {
    name: 'a reachable Slurm',
    require: 'LW_REQUIRE_SLURM',
    howTo: 'start a one-node cluster on localhost as root with eval "$(bash ../shared/tools/slurm-local.sh)" (stop it with bash ../shared/tools/slurm-local-stop.sh)',
    missing: () => (reachable ? undefined : 'sbatch/squeue cannot reach a controller'),
  };
}
