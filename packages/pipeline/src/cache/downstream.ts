import type { Cache } from './cache.js';
import type { KeyInputs } from '../plan/key.js';

/**
 * The entries computed, directly or through other entries, from any of `roots`, found through
 * every entry's task.json (its input keys): what `lw verify` removes along with a corrupted entry,
 * since they may have read its files after they changed. Returns each such entry's key -> the
 * keys it read directly among `roots` and the other entries found.
 */
export function computedFrom(cache: Cache, roots: Iterable<string>): Map<string, string[]> {
  const readers = new Map<string, string[]>();
  for (const key of cache.keys()) {
    for (const input of inputKeys(readTask(cache, key))) readers.set(input, [...(readers.get(input) ?? []), key]);
  }
  const seeds = new Set(roots);
  const found = new Map<string, string[]>();
  const queue = [...seeds];
  while (queue.length) {
    const from = queue.shift()!;
    for (const reader of readers.get(from) ?? []) {
      if (seeds.has(reader)) continue;
      const parents = found.get(reader);
      if (parents) {
        if (!parents.includes(from)) parents.push(from);
        continue;
      }
      found.set(reader, [from]);
      queue.push(reader);
    }
  }
  return found;
}

/** task.json, or undefined when it is unreadable (such an entry is itself reported corrupt). */
function readTask(cache: Cache, key: string): KeyInputs | undefined {
  try {
    return cache.readTask(key);
  } catch {
    return undefined;
  }
}

function inputKeys(task: KeyInputs | undefined): string[] {
  if (!task?.inputs) return [];
  return Object.values(task.inputs)
    .flatMap((v) => (Array.isArray(v) ? v : [v]))
    .map((v) => (typeof v === 'string' ? v : v.key));
}
