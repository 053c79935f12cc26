import { UserError } from '@lw/core';

/**
 * The errors found in one pipeline file, gathered so that a run reports all of them at once, in
 * file order, instead of one per attempt. A lone error reads as it always has
 * (`file:line:col: message` + hint); several become one paragraph with one line (and hint) each.
 */
interface Problem {
  at: string;
  message: string;
  hint?: string;
  order: number;
}

/** Thrown after a problem is recorded, to abandon the unit being checked (a task, a reference). */
export class PlanProblem extends Error {}

export class Problems {
  private readonly list: Problem[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly file: string) {}

  /** Records a problem at `at` (`file:line:col`); one with the same `once` key as an earlier one is dropped. */
  add(at: string, message: string, hint?: string, once = `${at}\0${message}`): void {
    if (this.seen.has(once)) return;
    this.seen.add(once);
    this.list.push({ at, message, hint, order: this.list.length });
  }

  get size(): number {
    return this.list.length;
  }

  /** Throws every recorded problem as one UserError, sorted by line and column. */
  throwIfAny(): void {
    if (this.list.length === 0) return;
    const sorted = [...this.list].sort((a, b) => compare(position(a.at), position(b.at)) || a.order - b.order);
    if (sorted.length === 1) throw new UserError(`${sorted[0].at}: ${sorted[0].message}`, sorted[0].hint);
    const lines = sorted.map((p) => `  ${p.at}: ${p.message}${p.hint ? `\n    hint: ${p.hint}` : ''}`);
    throw new UserError(`${sorted.length} errors in ${this.file}, in file order:\n${lines.join('\n')}`);
  }
}

function position(at: string): [number, number] {
  const m = /:(\d+):(\d+)$/.exec(at);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

function compare(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}
