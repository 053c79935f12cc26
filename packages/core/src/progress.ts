/** Progress primitives shared by the CLI, the executors and long-running stages. */

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60), r = s % 60;
  if (m < 60) return `${m}m${String(r).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Remaining time from a constant rate so far; undefined until something is done. */
export function eta(done: number, total: number, elapsedMs: number): number | undefined {
  if (done <= 0 || total <= done) return done >= total && total > 0 ? 0 : undefined;
  return (elapsedMs / done) * (total - done);
}

export interface ProgressOptions {
  label: string;
  total: number;
  /** Where to write; defaults to stderr so stdout stays clean for --json. */
  stream?: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
  /** In plain (non-terminal) mode, print at most every this many ms. */
  plainIntervalMs?: number;
  now?: () => number;
}

/**
 * A single progress line: redrawn in place on a terminal, printed as plain lines (throttled)
 * otherwise, so logs from CI and `nx run` stay readable.
 */
export class ProgressLine {
  private done = 0;
  private readonly start: number;
  private lastPrint = -Infinity;
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly tty: boolean;
  private readonly now: () => number;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
    this.now = opts.now ?? Date.now;
    this.start = this.now();
  }

  /** The text of the line, e.g. `convert 120/1000 (12%) 34.2/s ETA 25s`. */
  text(note?: string): string {
    const { label, total } = this.opts;
    const elapsed = this.now() - this.start;
    const pct = total > 0 ? Math.floor((100 * this.done) / total) : 0;
    const rate = elapsed > 0 ? (this.done * 1000) / elapsed : 0;
    const left = eta(this.done, total, elapsed);
    const parts = [`${label} ${this.done}/${total} (${pct}%)`, `${rate.toFixed(1)}/s`];
    if (left !== undefined) parts.push(`ETA ${formatDuration(left)}`);
    if (note) parts.push(note);
    return parts.join(' ');
  }

  tick(by = 1, note?: string): void {
    this.update(this.done + by, note);
  }

  update(done: number, note?: string): void {
    this.done = done;
    const t = this.now();
    if (this.tty) {
      if (t - this.lastPrint < 100 && done < this.opts.total) return;
      this.stream.write(`\r\x1b[2K${this.text(note)}`);
    } else {
      if (t - this.lastPrint < (this.opts.plainIntervalMs ?? 5000) && done < this.opts.total) return;
      this.stream.write(`${this.text(note)}\n`);
    }
    this.lastPrint = t;
  }

  finish(note?: string): void {
    this.lastPrint = -Infinity;
    this.update(this.done, note);
    if (this.tty) this.stream.write('\n');
  }
}
