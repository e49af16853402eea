import { PlaybackClock } from './clock.ts';
import type { AudioSink, SinkStats } from './sink.ts';
import { byteRateOf } from '../../common/wav.ts';
import type { AudioFormat } from '../../protocol/index.ts';

/** Discards audio; with `realtime`, takes as long as playing it would. */
export class NullSink implements AudioSink {
  readonly description: string;
  private readonly realtime: boolean;
  private clock: PlaybackClock | undefined;
  private bytes = 0;

  constructor(options: { realtime?: boolean } = {}) {
    this.realtime = options.realtime ?? false;
    this.description = this.realtime ? 'null (real time)' : 'null';
  }

  async open(format: AudioFormat): Promise<void> {
    if (this.realtime) this.clock = new PlaybackClock(byteRateOf(format));
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
