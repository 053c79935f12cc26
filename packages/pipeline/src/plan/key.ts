import * as crypto from 'node:crypto';
import { canonicalJson } from '@lw/core';

/**
 * Everything a task's cache key depends on, and nothing else. This object is hashed into the key,
 * written as the entry's `task.json`, and diffed by `lw explain`; keeping all three the same
 * value is what makes "why does this rerun?" answerable.
 */
export interface KeyInputs {
  /** Format of this object; bump to invalidate every key when its meaning changes. */
  version: 1;
  /** Registered stage id: two stages never share results even with equal params. */
  stage: string;
  /** Hash of the built files of the stage's package and the workspace packages it depends on
   *  transitively: new code means new results. Source maps and typings are left out (they do
   *  not change behaviour). */
  code: string;
  /** Fully resolved params with defaults applied, so writing a default explicitly or leaving it
   *  out gives the same key, while changing a default in code changes `code` anyway. */
  params: Record<string, unknown>;
  /** Keys of the input tasks (plus the epoch for checkpoint references): a changed upstream
   *  result changes every downstream key. The matrix condition is NOT listed: it only matters
   *  through the params and inputs it produced, so two conditions that resolve alike share work. */
  inputs: Record<string, InputKey | InputKey[]>;
  /** Content hashes of files outside the cache that the params name (`exec` deps, data sets),
   *  by the path written in the params. */
  files: Record<string, string>;
}

export type InputKey = string | { key: string; epoch: number };

/** The one function that turns key inputs into a task key: sha256 of the canonical JSON (@lw/core's `jsonKey`). */
export function taskKey(inputs: KeyInputs): string {
  return sha256Hex(canonicalJson(inputs));
}

/** One-shot `crypto.hash` where Node has it (20.12+), about twice as fast as createHash for short texts. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
function sha256Hex(text: string): string {
  return oneShot ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
}
