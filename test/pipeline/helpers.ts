import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '@lw/core';

/** Runs the real `lw` CLI (built) as a child process, in a temp project directory. */
export const lwBin = join(repoRoot(), 'packages', 'pipeline', 'bin', 'lw.js');

export interface LwResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The last stdout line parsed as JSON (commands run with --json). */
  json: Record<string, unknown>;
}

export function startLw(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<LwResult> } {
  const child = spawn(process.execPath, [lwBin, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<LwResult>((resolve) =>
    child.on('close', (code, signal) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(last);
      } catch {
        // Not a --json run.
      }
      resolve({ code, signal, stdout, stderr, json });
    }),
  );
  return { child, done };
}

export function lw(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<LwResult> {
  return startLw(args, cwd, env).done;
}

/** A temp project dir with a pipeline file `p.yaml`. */
export function project(yaml: string): { dir: string; file: string; write(y: string): void; executions(): string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'lw-test-'));
  const file = join(dir, 'p.yaml');
  writeFileSync(file, yaml.replaceAll('$DIR', dir));
  return {
    dir,
    file,
    write: (y) => writeFileSync(file, y.replaceAll('$DIR', dir)),
    /** Lines appended to $DIR/executions.log by the pipeline's commands: one per finished task. */
    executions: () => (existsSync(join(dir, 'executions.log')) ? readFileSync(join(dir, 'executions.log'), 'utf8').trim().split('\n').filter(Boolean) : []),
  };
}

export function leftovers(cacheDir: string): string[] {
  const tmp = join(cacheDir, 'tmp');
  return existsSync(tmp) ? readdirSync(tmp) : [];
}

export async function until(what: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(50);
  }
}

/** What a user editing a published (read-only) entry file does: gives it and its directory the
 *  write bit back, then writes. Root could write anyway; everyone else needs the chmod. */
export function overwrite(path: string, data: string | Buffer): void {
  chmodSync(dirname(path), statSync(dirname(path)).mode | 0o200);
  chmodSync(path, statSync(path).mode | 0o200);
  writeFileSync(path, data);
}

/** Every file and directory under `dir` (itself included) that has any write bit set. */
export function writable(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    if (st.mode & 0o222) out.push(p);
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(dir);
  return out;
}
