/**
 * Records exactly the PCM that was played into a WAV file, with the `wav` package's FileWriter (the
 * right tool for writing WAV: it fixes up the RIFF and data sizes when the stream ends). This is the
 * sink of containerised clients. With `realtime`, it plays at the song's pace like a device would,
 * and logs buffer underruns.
 */
import { once } from 'node:events';
import { mkdir, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import wav from 'wav';
import { AudioLabError } from '../../errors.ts';
import type { AudioFormat } from '../../protocol/index.ts';
import { PlaybackClock, type Underrun } from './clock.ts';
import { byteRateOf, type AudioSink, type SinkStats } from './sink.ts';

export class RecorderSink implements AudioSink {
  readonly description: string;
  readonly path: string;
  private readonly realtime: boolean;
  private readonly onUnderrun: ((u: Underrun) => void) | undefined;
  private writer: wav.FileWriter | undefined;
  private clock: PlaybackClock | undefined;
  private bytes = 0;

  constructor(path: string, options: { realtime?: boolean; onUnderrun?: (u: Underrun) => void } = {}) {
    this.path = path;
    this.realtime = options.realtime ?? false;
    this.onUnderrun = options.onUnderrun;
    this.description = `wav:${path}${this.realtime ? ' (real time)' : ''}`;
  }

  private get tmpPath(): string {
    return `${this.path}.recording`;
  }

  async open(format: AudioFormat): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    this.writer = new wav.FileWriter(this.tmpPath, {
      channels: format.channels,
      sampleRate: format.sampleRate,
      bitDepth: format.bitsPerSample,
      format: format.encoding === 'float' ? 3 : 1,
    });
    this.writer.on('error', () => { /* reported by close() */ });
    if (this.realtime) this.clock = new PlaybackClock(byteRateOf(format), this.onUnderrun ? { onUnderrun: this.onUnderrun } : {});
  }

  async write(pcm: Buffer): Promise<void> {
    if (!this.writer) throw new AudioLabError('AUDIOLAB_ERR_SINK', 'Recorder not open');
    this.bytes += pcm.length;
    if (!this.writer.write(pcm)) await once(this.writer, 'drain');
    await this.clock?.pace(pcm.length);
  }

  /** Finishes the file; it appears under its name only once complete. */
  async close(): Promise<void> {
    await this.clock?.drain();
    const w = this.writer;
    if (!w) return;
    this.writer = undefined;
    const done = once(w, 'done');
    w.end();
    await done;
    await rename(this.tmpPath, this.path);
  }

  stats(): SinkStats {
    return { bytes: this.bytes, underruns: this.clock?.underruns ?? [] };
  }
}
