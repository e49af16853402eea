import { PlaybackClock, type Underrun } from './clock.ts';
import type { AudioSink, SinkStats } from './sink.ts';
import { byteRateOf } from '../../common/wav.ts';
import type { AudioFormat } from '../../protocol/index.ts';

/** Discards audio; with `realtime`, takes as long as playing it would. */
export class NullSink implements AudioSink {
  readonly description: string;
  readonly realtime: boolean;
  private clock: PlaybackClock | undefined;
  private bytes = 0;
  private readonly onUnderrun: ((u: Underrun) => void) | undefined;

  constructor(options: { realtime?: boolean; onUnderrun?: (u: Underrun) => void } = {}) {
    this.realtime = options.realtime ?? false;
    this.onUnderrun = options.onUnderrun;
    this.description = this.realtime ? 'null (real time)' : 'null';
  }

  async open(format: AudioFormat): Promise<void> {
    if (this.realtime) this.clock = new PlaybackClock(byteRateOf(format), this.onUnderrun ? { onUnderrun: this.onUnderrun } : {});
  }

  async write(pcm: Buffer): Promise<void> {
    this.bytes += pcm.length;
    await this.clock?.pace(pcm.length);
  }

  async close(): Promise<void> {
    await this.clock?.drain();
  }

  async abort(): Promise<void> {}

  stats(): SinkStats {
    return { bytes: this.bytes, underruns: this.clock?.underruns ?? [] };
  }
}
