import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signatureNow } from './entry-stat.js';
import { problemLines, problemsJson, problemsText, type TaskProblems } from '../exec/task-problems.js';

/**
 * The no-op fast path of `lw run`. After a run that leaves every task of a pipeline cached, a
 * stamp records what that answer depended on: the pipeline file's bytes, the `--set` values, the
 * `LW_STAGES` modules, the stat (size, mtime) of every code file, package.json, directory and
 * outside file the fingerprints read, the task keys, the stats of every file of their entries as
 * that run checked them against their checksums.json, and the results index it wrote. A later
 * `lw run` with the same arguments checks those stats (a changed, added or removed entry file, as
 * from a corrupted output, fails the check: the normal path then finds and recomputes it) and
 * that results.json is still the one written (another run of the file may have rewritten the
 * tree), and if nothing changed prints the same summary without loading the planner, zod, YAML or
 * yargs (most of a rerun's time).
 * Any difference, or any other flag, takes the normal path, which is always right on its own.
 * This module imports only Node built-ins on purpose.
 */
interface Stamp {
  version: 2;
  fileSha: string;
  watched: [string, string][];
  keys: string[];
  /** [path, signature] of the entries' dirs and output files as checked (entry-stat.ts). */
  entries: [string, string][];
  stages: { name: string; tasks: number }[];
  resultsDir: string;
  /** sha256 of the results.json the run wrote. */
  resultsSha: string;
  /** Tasks whose summary reported problems (task-problems.ts), so the no-op answer says so too. */
  problems?: TaskProblems[];
}

export interface NoopArgs {
  file: string;
  cacheDir: string;
  sets: string[];
  /** Absolute results root (`--results`, LW_RESULTS, `.lw/results`). */
  resultsRoot: string;
  /**
   * Which installation of the tool runs (default: this module's path). The stamp watches the code files
   * of the installation that wrote it, so another checkout's `lw` on the same cache must not take it.
   */
  tool?: string;
}

const THIS_TOOL = fileURLToPath(import.meta.url);

function stampPath(a: NoopArgs): string {
  const id = createHash('sha256')
    .update(JSON.stringify([resolve(a.file), a.sets, process.env.LW_STAGES ?? '', resolve(a.resultsRoot), a.tool ?? THIS_TOOL]))
    .digest('hex');
  return join(a.cacheDir, 'runs', `${id}.json`);
}

/** `s.fileSha` is the hash of the text the run planned from (the file may have been edited since). */
export function writeStamp(a: NoopArgs, s: Omit<Stamp, 'version'>): void {
  const path = stampPath(a);
  mkdirSync(join(a.cacheDir, 'runs'), { recursive: true });
  const stamp: Stamp = { version: 2, ...s };
  writeFileSync(`${path}.${process.pid}.tmp`, JSON.stringify(stamp));
  renameSync(`${path}.${process.pid}.tmp`, path);
}

/** The stamp when nothing it depends on changed, else undefined. */
export function checkStamp(a: NoopArgs): Stamp | undefined {
  const path = stampPath(a);
  if (!existsSync(path)) return undefined;
  try {
    const stamp = JSON.parse(readFileSync(path, 'utf8')) as Stamp;
    if (stamp.version !== 2 || stamp.fileSha !== sha(readFileSync(a.file))) return undefined;
    for (const [p, want] of stamp.watched) {
      const st = statSync(p);
      if ((st.isDirectory() ? `dir:${st.mtimeMs}` : `${st.size}:${st.mtimeMs}`) !== want) return undefined;
    }
    // A removed entry or file throws (caught below); an added file changes its directory's mtime.
    for (const [p, want] of stamp.entries) if (signatureNow(p) !== want) return undefined;
    if (sha(readFileSync(join(stamp.resultsDir, 'results.json'))) !== stamp.resultsSha) return undefined;
    return stamp;
  } catch {
    return undefined;
  }
}

function sha(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * `lw run FILE [--json] [--cache DIR] [--results DIR] [--jobs N] [--set K=V ...]` and nothing else: answers
 * from a valid stamp and returns true; returns false to take the normal path.
 */
export function tryNoopRun(argv: string[]): boolean {
  if (argv[0] !== 'run') return false;
  let file: string | undefined;
  let json = false;
  let cacheDir = process.env.LW_CACHE ?? '.lw/cache';
  let resultsRoot = process.env.LW_RESULTS ?? '.lw/results';
  const sets: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') json = true;
    else if (arg === '--cache' && i + 1 < argv.length) cacheDir = argv[++i];
    else if (arg === '--results' && i + 1 < argv.length) resultsRoot = argv[++i];
    else if ((arg === '--jobs' || arg === '-j') && i + 1 < argv.length) i++;
    else if (arg === '--set' && i + 1 < argv.length) sets.push(argv[++i]);
    else if (!arg.startsWith('-') && file === undefined) file = arg;
    else return false;
  }
  if (!file || !existsSync(file)) return false;
  const stamp = checkStamp({ file, cacheDir: resolve(cacheDir), sets, resultsRoot: resolve(resultsRoot) });
  if (!stamp) return false;
  const tasks = stamp.keys.length;
  if (!json) for (const s of stamp.stages) process.stdout.write(`${s.name}: ${s.tasks} task${s.tasks === 1 ? '' : 's'} -> ${stamp.resultsDir}/${s.name}\n`);
  const problems = stamp.problems ?? [];
  process.stderr.write(`${tasks} tasks: 0 ran, ${tasks} cached, 0 failed${problemsText(problems)}; results in ${stamp.resultsDir}\n`);
  for (const line of problemLines(problems)) process.stderr.write(line + '\n');
  if (json) process.stdout.write(JSON.stringify({ tasks, ran: 0, cached: tasks, failed: 0, ...problemsJson(problems) }) + '\n');
  return true;
}
