import { closeSync, openSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Per-key lock files: created with O_EXCL (exclusive create works on local disks and NFSv3+),
 * holding host, pid and start time; the holder touches the file every few seconds (heartbeat).
 * A lock is stale when its heartbeat is older than `staleMs`, or when it names a process on this
 * host that no longer exists (kill -9); a stale lock is taken over by renaming it away first, so
 * that of two processes taking over at once only one wins.
 */
export interface LockInfo {
  host: string;
  pid: number;
  started: string;
}

export interface Lock {
  release(): void;
}

export const HEARTBEAT_MS = 5_000;
export const STALE_MS = 60_000;

export function tryLock(path: string, staleMs = STALE_MS): Lock | undefined {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      const info: LockInfo = { host: hostname(), pid: process.pid, started: new Date().toISOString() };
      writeSync(fd, JSON.stringify(info));
      closeSync(fd);
      return held(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (!isStale(path, staleMs)) return undefined;
    try {
      const aside = `${path}.stale.${process.pid}`;
      renameSync(path, aside);
      rmSync(aside, { force: true });
    } catch {
      // Someone else took it over first.
    }
  }
  return undefined;
}

function held(path: string): Lock {
  const timer = setInterval(() => {
    const now = new Date();
    try {
      utimesSync(path, now, now);
    } catch {
      // The lock was taken from us (we looked dead); the publish rename still decides who wins.
    }
  }, HEARTBEAT_MS);
  timer.unref();
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      try {
        const info = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
        if (info.pid === process.pid && info.host === hostname()) rmSync(path, { force: true });
      } catch {
        // Already gone.
      }
    },
  };
}

export function readLock(path: string): LockInfo | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

export function isStale(path: string, staleMs = STALE_MS): boolean {
  let mtime: number;
  try {
    mtime = statSync(path).mtimeMs;
  } catch {
    return true;
  }
  const info = readLock(path);
  if (info && info.host === hostname() && !processAlive(info.pid)) return true;
  // A lock being written right now may not parse yet; only its age can make it stale.
  return Date.now() - mtime > staleMs;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
