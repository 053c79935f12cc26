import { eta, formatDuration } from '@lw/core';
import type { ExecEvent } from '../exec/executor.js';

/**
 * What the user sees while `lw run` works: counts of tasks done / cached / running / failed,
 * the epochs of running tasks, and an ETA. On a terminal a few lines redrawn in place; otherwise
 * (CI, `nx run`, pipes) one plain line per task event plus a summary line now and then.
 */
export interface ViewStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export class RunView {
  private readonly start = Date.now();
  private readonly running = new Map<string, { since: number; done?: number; total?: number; note?: string }>();
  private done = 0;
  private failed = 0;
  private skipped = 0;
  private drawnLines = 0;
  private lastDraw = 0;
  private lastPlainSummary = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: ViewStream,
    private readonly names: Map<string, string>,
    private readonly total: number,
    private readonly cached: number,
    private readonly executor: string,
  ) {
    if (stream.isTTY) {
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    }
  }

  event(e: ExecEvent): void {
    const name = this.names.get(e.key) ?? e.key.slice(0, 12);
    switch (e.type) {
      case 'started':
        this.running.set(e.key, { since: Date.now() });
        // Plain logs stay one line per task; the live view and summaries show what is running.
        if (this.stream.isTTY) this.line(`start  ${name}${e.where ? ` (${e.where})` : ''}`);
        break;
      case 'progress': {
        const r = this.running.get(e.key) ?? { since: Date.now() };
        this.running.set(e.key, { ...r, done: e.done, total: e.total, note: e.note });
        break;
      }
      case 'succeeded':
        this.running.delete(e.key);
        this.done++;
        this.line(`done   ${name}${e.cachedByOther ? ' (computed by a concurrent run)' : ''}`);
        break;
      case 'failed':
        this.running.delete(e.key);
        this.failed++;
        this.line(`FAILED ${name}: ${e.reason}${e.logPath ? `\n       log: ${e.logPath}` : ''}`);
        break;
      case 'skipped':
      case 'cancelled':
        this.running.delete(e.key);
        this.skipped++;
        this.line(`${e.type === 'skipped' ? 'skip  ' : 'cancel'} ${name}: ${e.reason}`);
        break;
    }
    if (!this.stream.isTTY && Date.now() - this.lastPlainSummary > 10_000) {
      this.lastPlainSummary = Date.now();
      this.stream.write([this.summary(), ...this.runningLines(4)].join('\n') + '\n');
    }
  }

  /** The one-line state: `[local] 12/40 done, 20 cached, 3 running, 1 failed, ETA 2m10s`. */
  summary(): string {
    const toRun = this.total - this.cached;
    const finished = this.done + this.failed + this.skipped;
    const left = eta(this.done, toRun - this.failed - this.skipped, Date.now() - this.start);
    const parts = [`[${this.executor}] ${finished}/${toRun} done`, `${this.cached} cached`, `${this.running.size} running`, `${this.failed} failed`];
    if (this.skipped) parts.push(`${this.skipped} skipped`);
    parts.push(`${formatDuration(Date.now() - this.start)} elapsed`);
    if (left !== undefined && finished < toRun) parts.push(`ETA ${formatDuration(left)}`);
    return parts.join(', ');
  }

  finish(): void {
    if (this.timer) clearInterval(this.timer);
    this.clear();
    this.stream.write(this.summary() + '\n');
  }

  /** `  sweep[start=5] epoch 3/10 loss 0.41 (1m02s)` for up to `max` running tasks. */
  private runningLines(max: number): string[] {
    const lines = [...this.running].slice(0, max).map(([key, r]) => {
      const epochs = r.total ? ` epoch ${r.done}/${r.total}` : '';
      return `  ${this.names.get(key) ?? key.slice(0, 12)}${epochs}${r.note ? ` ${r.note}` : ''} (${formatDuration(Date.now() - r.since)})`;
    });
    if (this.running.size > max) lines.push(`  ... and ${this.running.size - max} more`);
    return lines;
  }

  private line(text: string): void {
    this.clear();
    this.stream.write(text + '\n');
    if (this.stream.isTTY) this.draw(true);
  }

  private clear(): void {
    if (!this.stream.isTTY || this.drawnLines === 0) return;
    this.stream.write(`\x1b[${this.drawnLines}A\x1b[0J`);
    this.drawnLines = 0;
  }

  private draw(force = false): void {
    if (!force && Date.now() - this.lastDraw < 200) return;
    this.lastDraw = Date.now();
    this.clear();
    const width = (this.stream.columns || 100) - 1;
    const lines = [this.summary(), ...this.runningLines(8)];
    this.stream.write(lines.map((l) => l.slice(0, width)).join('\n') + '\n');
    this.drawnLines = lines.length;
  }
}
