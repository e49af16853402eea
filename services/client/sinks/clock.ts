/**
 * Real-time pacing for a sink, like a sound device with a small buffer: writes return once the
 * audio is due to be played (at most `leadMs` early). If audio arrives after the buffer ran dry,
 * that is an underrun: it is recorded with its time and position and the clock restarts.
 */
export interface Underrun {
  /** Wall-clock time of the underrun (ISO). */
  at: string;
  /** Position in the song, ms. */
  positionMs: number;
  /** How long the device had nothing to play, ms. */
  gapMs: number;
}

export class PlaybackClock {
  private readonly byteRate: number;
  private readonly leadMs: number;
  private readonly toleranceMs: number;
  private base = 0;
  private queuedMs = 0;
  private positionMs = 0;
  readonly underruns: Underrun[] = [];
  private readonly onUnderrun: ((u: Underrun) => void) | undefined;

  constructor(byteRate: number, options: { leadMs?: number; toleranceMs?: number; onUnderrun?: (u: Underrun) => void } = {}) {
    this.byteRate = byteRate;
    this.leadMs = options.leadMs ?? 200;
    this.toleranceMs = options.toleranceMs ?? 30;
    this.onUnderrun = options.onUnderrun;
  }

  /** Accounts for `bytes` of audio handed to the device; resolves when the device would accept more. */
  async pace(bytes: number): Promise<void> {
    const now = performance.now();
    if (this.base === 0) {
      this.base = now;
    } else {
      const playedUntil = this.base + this.queuedMs;
      if (now > playedUntil + this.toleranceMs) {
        const u = { at: new Date().toISOString(), positionMs: Math.round(this.positionMs), gapMs: Math.round(now - playedUntil) };
        this.underruns.push(u);
        this.onUnderrun?.(u);
        this.base = now;
        this.queuedMs = 0;
      }
    }
    const ms = (bytes / this.byteRate) * 1000;
    this.queuedMs += ms;
    this.positionMs += ms;
    const wait = this.base + this.queuedMs - this.leadMs - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  }

  /** Resolves when everything queued has been played. */
  async drain(): Promise<void> {
    const wait = this.base + this.queuedMs - performance.now();
    if (this.base > 0 && wait > 1) await new Promise((r) => setTimeout(r, wait));
  }
}
