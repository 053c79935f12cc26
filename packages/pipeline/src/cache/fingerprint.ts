import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/**
 * Content fingerprints of files and directories, with a size+mtime fast path: a file whose size
 * and mtime match the last time it was hashed is not read again. The memo is saved in the cache
 * (`fingerprints.json`) so the no-op rerun of a big pipeline reads almost nothing.
 */
interface Memo {
  size: number;
  mtimeMs: number;
  sha: string;
}

export class FileHasher {
  private memo = new Map<string, Memo>();
  private dirty = false;
  /** Every file and directory this hasher looked at, with what a stat said (`size:mtime`, or
   *  `dir:mtime`): enough for the no-op fast path (`noop-stamp.ts`) to tell nothing changed. */
  readonly watched = new Map<string, string>();

  constructor(private readonly memoFile?: string) {
    if (memoFile && existsSync(memoFile)) {
      try {
        const saved = JSON.parse(readFileSync(memoFile, 'utf8')) as Record<string, Memo>;
        for (const [k, v] of Object.entries(saved)) this.memo.set(k, v);
      } catch {
        // A torn or foreign memo only costs re-hashing.
      }
    }
  }

  /** sha256 of a file's bytes. */
  file(path: string): string {
    const st = statSync(path);
    this.watched.set(path, `${st.size}:${st.mtimeMs}`);
    const known = this.memo.get(path);
    if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return known.sha;
    const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
    this.memo.set(path, { size: st.size, mtimeMs: st.mtimeMs, sha });
    this.dirty = true;
    return sha;
  }

  /** Records a file or directory whose content the caller read (package.json) or checked. */
  note(path: string): void {
    const st = statSync(path);
    this.watched.set(path, st.isDirectory() ? `dir:${st.mtimeMs}` : `${st.size}:${st.mtimeMs}`);
  }

  /** A file's hash, or for a directory the hash of its sorted (relative path, file hash) list. */
  path(path: string, keep: (rel: string) => boolean = () => true): string {
    const st = statSync(path);
    if (!st.isDirectory()) return this.file(path);
    const h = createHash('sha256');
    for (const rel of listFiles(path, (d, mtimeMs) => this.watched.set(d, `dir:${mtimeMs}`)).filter(keep)) h.update(`${rel}\0${this.file(join(path, rel))}\n`);
    return h.digest('hex');
  }

  save(): void {
    if (!this.memoFile || !this.dirty) return;
    const tmp = `${this.memoFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.memo)));
    renameSync(tmp, this.memoFile);
    this.dirty = false;
  }
}

/** Every file under `dir`, as sorted relative paths with `/`. */
export function listFiles(dir: string, onDir?: (dir: string, mtimeMs: number) => void): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (onDir) onDir(d, statSync(d).mtimeMs);
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() || e.isSymbolicLink()) out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/** Built files that carry behaviour: compiled JS and JSON, not maps, typings or build info. */
export function isCodeFile(rel: string): boolean {
  return /\.(m?js|cjs|json|wasm)$/.test(rel) && !rel.endsWith('.tsbuildinfo');
}

/** Workspace packages by name -> directory, read from `<root>/packages/*\/package.json`. */
export function workspacePackages(root: string): Map<string, string> {
  const map = new Map<string, string>();
  const dir = join(root, 'packages');
  if (!existsSync(dir)) return map;
  for (const name of readdirSync(dir)) {
    const pj = join(dir, name, 'package.json');
    if (existsSync(pj)) map.set((JSON.parse(readFileSync(pj, 'utf8')) as { name: string }).name, dirname(pj));
  }
  return map;
}

/**
 * Code fingerprint of a package: hash of its `dist/` code files and, recursively, those of every
 * workspace package among its `dependencies`. `workspace` maps package names to directories;
 * dependencies not in it (npm packages) are pinned by package-lock, not hashed here.
 */
export function codeFingerprint(packageDir: string, workspace: Map<string, string>, hasher: FileHasher): string {
  const seen = new Set<string>();
  const order: string[] = [];
  const visit = (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    order.push(dir);
    hasher.note(dir);
    hasher.note(join(dir, 'package.json'));
    const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(pj.dependencies ?? {}).sort()) {
      const depDir = workspace.get(dep);
      if (depDir) visit(depDir);
    }
  };
  visit(packageDir);
  const h = createHash('sha256');
  for (const dir of order.sort()) {
    const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string };
    const dist = join(dir, 'dist');
    const sha = existsSync(dist) ? hasher.path(dist, isCodeFile) : 'unbuilt';
    h.update(`${pj.name}\0${sha}\n`);
  }
  return h.digest('hex');
}

/** Fingerprint of an explicit list of files, by base name and content. */
export function filesFingerprint(files: string[], hasher: FileHasher): string {
  const h = createHash('sha256');
  for (const f of [...files].sort()) h.update(`${f.split('/').at(-1)}\0${hasher.file(f)}\n`);
  return h.digest('hex');
}
