/**
 * Records exactly the PCM that was played into a WAV file, with the `wav` package's Writer (the
 * right tool for WAV: it writes the header and, when the stream ends, the header with the final
 * RIFF and data sizes). This is the sink of containerised clients. With `realtime`, it plays at the
 * song's pace like a device would, and logs buffer underruns.
 *
 * Not wav's FileWriter: it rewrites the header by reopening the file as soon as the data ends, which
 * races its own write stream (seen under load: ENOENT when the stream had not created the file yet,
 * and the final header can be overwritten by the stream's late first write). Here the final header
 * is written after the file stream has closed.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { dirname } from 'node:path';
import wav from 'wav';
import { AudioLabError } from '../../protocol/errors.ts';
import type { AudioFormat } from '../../protocol/index.ts';
import { PlaybackClock, type Underrun } from './clock.ts';
import type { AudioSink, SinkStats } from './sink.ts';
import { byteRateOf } from '../../common/wav.ts';

export class RecorderSink implements AudioSink {
  readonly description: string;
  readonly path: string;
  readonly realtime: boolean;
  private readonly onUnderrun: ((u: Underrun) => void) | undefined;
  private writer: wav.Writer | undefined;
  private file: WriteStream | undefined;
  /** The header with the final sizes, which the Writer emits when the data ends. */
  private finalHeader: Buffer | undefined;
  private clock: PlaybackClock | undefined;
  private bytes = 0;

  private readonly createDirs: boolean;

  /** `createDirs`: make the file's folder if it is missing (a recording folder the caller names); otherwise it must exist. */
  constructor(path: string, options: { realtime?: boolean; onUnderrun?: (u: Underrun) => void; createDirs?: boolean } = {}) {
    this.path = path;
    this.createDirs = options.createDirs ?? false;
    this.realtime = options.realtime ?? false;
    this.onUnderrun = options.onUnderrun;
    this.description = `wav:${path}${this.realtime ? ' (real time)' : ''}`;
  }

  private get tmpPath(): string {
    return `${this.path}.recording`;
  }

  async open(format: AudioFormat): Promise<void> {
    if (this.createDirs) await mkdir(dirname(this.path), { recursive: true });
    else await assertFolder(this.path);
    this.writer = new wav.Writer({
      channels: format.channels,
      sampleRate: format.sampleRate,
      bitDepth: format.bitsPerSample,
      format: format.encoding === 'float' ? 3 : 1,
    });
    this.file = createWriteStream(this.tmpPath);
    this.writer.pipe(this.file);
    this.writer.on('header', (h: Buffer) => { this.finalHeader = h; });
    this.writer.on('error', () => { /* reported by close() */ });
    this.file.on('error', () => { /* reported by close() */ });
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
    const file = this.file;
    if (!w || !file) return;
    this.writer = undefined;
    this.file = undefined;
    w.end();
    await Promise.all([finished(w), finished(file)]);
    if (!this.finalHeader) throw new AudioLabError('AUDIOLAB_ERR_SINK', `${this.path}: the WAV writer gave no final header`);
    const fh = await open(this.tmpPath, 'r+');
    try {
      await fh.write(this.finalHeader, 0, this.finalHeader.length, 0);
    } finally {
      await fh.close();
    }
    await rename(this.tmpPath, this.path);
  }

  /** Drops the unfinished recording: nothing appears under its name, and its `.recording` file is removed. */
  async abort(): Promise<void> {
    const w = this.writer;
    const file = this.file;
    this.writer = undefined;
    this.file = undefined;
    if (w && file) {
      w.unpipe(file);
      file.destroy();
      await finished(file).catch(() => {});
    }
    await rm(this.tmpPath, { force: true });
  }

  stats(): SinkStats {
    return { bytes: this.bytes, underruns: this.clock?.underruns ?? [] };
  }
}

/** The folder a recording goes into exists (a mistyped path is said, not silently created). */
export async function assertFolder(path: string): Promise<void> {
  const dir = dirname(path);
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new AudioLabError('AUDIOLAB_ERR_SINK', `Cannot record to ${path}: there is no folder ${dir}. Create it first, or name a file in an existing folder.`);
}
