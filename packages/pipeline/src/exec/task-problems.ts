import type { Cache } from '../cache/cache.js';

/**
 * Tasks that succeeded but report problems in their summary (`summary.problems`, a count: the
 * analysis stage counts the inputs it had to skip). A run with such a task must not read as clean,
 * so the final line of `lw run` and its `--json` count them. Only type imports here: the no-op
 * fast path (noop-stamp.ts, Node built-ins only) prints the same words from its stamp.
 */
export interface TaskProblems {
  name: string;
  problems: number;
}

/** The tasks among `tasks` whose cached result reports problems > 0, in the given order. */
export function taskProblems(cache: Cache, tasks: Array<{ key: string; name: string }>): TaskProblems[] {
  const out: TaskProblems[] = [];
  for (const t of tasks) {
    let count: unknown;
    try {
      count = cache.readResult(t.key)?.summary.problems;
    } catch {
      continue; // an unreadable result.json is the cache check's business, not a problem count
    }
    if (typeof count === 'number' && count > 0) out.push({ name: t.name, problems: count });
  }
  return out;
}

/** `, 12 problems in report` for the summary line ('' when none). */
export function problemsText(list: TaskProblems[]): string {
  if (list.length === 0) return '';
  const total = list.reduce((a, p) => a + p.problems, 0);
  const names = list.length <= 3 ? list.map((p) => p.name).join(', ') : `${list.length} tasks`;
  return `, ${total} problem${total === 1 ? '' : 's'} in ${names}`;
}

/** One line per task with problems, for stderr after the summary line. */
export function problemLines(list: TaskProblems[]): string[] {
  return list.map((p) => `problems: ${p.name} reported ${p.problems} (its log names each one)`);
}

/** The `--json` summary's `problems` field: present only when some task reported any, so clean runs print what they always did. */
export function problemsJson(list: TaskProblems[]): { problems?: number } {
  const total = list.reduce((a, p) => a + p.problems, 0);
  return total > 0 ? { problems: total } : {};
}
