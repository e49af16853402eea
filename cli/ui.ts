/** Terminal output: results on stdout, progress and errors on stderr; progress only on a TTY. */
import { AudioLabError, toAudioLabError } from '../services/protocol/errors.ts';

export const isTTY = (): boolean => Boolean(process.stderr.isTTY) && !process.env.CI;

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function fmtMs(ms: number): string {
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}`;
}

/** The progress line on screen, if any: cleared before an error or a message is printed. */
const shownLines = new Set<ProgressLine>();

export function clearProgress(): void {
  for (const line of shownLines) line.done();
}

/** A single self-updating status line on stderr (a no-op when stderr is not a terminal). */
export class ProgressLine {
  private last = 0;
  private shown = false;
  /** Shown only on a terminal (quiet when stderr is a file or a pipe). */
  readonly enabled = isTTY();

  update(text: string, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.last < 80) return;
    this.last = now;
    const width = process.stderr.columns ?? 100;
    process.stderr.write(`\r\x1b[2K${text.slice(0, width - 1)}`);
    this.shown = true;
    shownLines.add(this);
  }

  done(): void {
    if (this.shown) process.stderr.write('\r\x1b[2K');
    this.shown = false;
    shownLines.delete(this);
  }
}

export function bar(fraction: number, width = 24): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

export function printError(err: unknown): void {
  const e = err instanceof AudioLabError ? err : toAudioLabError(err);
  clearProgress();
  process.stderr.write(`audiolab: error ${e.code}: ${e.message}\n`);
}
