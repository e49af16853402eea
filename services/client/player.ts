/**
 * Play while downloading. The song's bytes go to the cache's .part file at full network speed; the
 * playback side reads that growing file from the start and feeds the sink at the sink's pace. So
 * playback starts with the first chunk, memory stays bounded whatever the song's length, and once
 * the download is verified the song is in the cache: a replay needs no network transfer.
 */
import { EventEmitter, once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { AudioLabError } from '../protocol/errors.ts';
import type { SongInfo } from '../protocol/index.ts';
import type { AudioLabClient } from './client.ts';
import type { SongCache } from './cache.ts';
import type { AudioSink } from './sinks/sink.ts';
import type { Underrun } from './sinks/clock.ts';
import { WavStreamParser } from './wavstream.ts';
import type { IncomingStream } from './incoming.ts';

export interface PlayProgress {
  downloaded: number;
  size: number;
  playedBytes: number;
}

export interface PlayResult {
  song: SongInfo;
  fromCache: boolean;
  resumedFrom: number;
  downloadedBytes: number;
  pcmBytes: number;
  /** From the request to the first audio handed to the sink. */
  firstAudioMs: number;
  totalMs: number;
  underruns: Underrun[];
  cachePath: string;
}

/** A file being appended to while someone reads it. */
class GrowingFile extends EventEmitter<{ progress: []; }> {
  written: number;
  done = false;
  error: Error | undefined;
  constructor(start: number) {
    super();
    this.written = start;
  }
  update(): void {
    this.emit('progress');
  }
}

async function* readGrowing(path: string, file: GrowingFile, chunkSize = 64 * 1024): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    let pos = 0;
    for (;;) {
      if (file.error) throw file.error;
      if (pos < file.written) {
        const buf = Buffer.allocUnsafe(Math.min(chunkSize, file.written - pos));
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        pos += bytesRead;
        yield buf.subarray(0, bytesRead);
        continue;
      }
      if (file.done) return;
      await once(file, 'progress');
    }
  } finally {
    await fh.close();
  }
}

/** Appends an incoming stream to `path`, advancing `file.written` as bytes reach the disk. */
async function download(stream: IncomingStream, path: string, file: GrowingFile, onChunk: () => void): Promise<void> {
  const out = createWriteStream(path, { flags: 'a' });
  let diskError: Error | undefined;
  out.on('error', (err) => { diskError ??= err; });
  try {
    for await (const chunk of stream) {
      if (diskError) throw diskError;
      const b = chunk as Buffer;
      const ok = out.write(b, (err) => {
        if (err) return;
        file.written += b.length;
        file.update();
        onChunk();
      });
      if (!ok) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    file.done = true;
  } catch (err) {
    file.error = err as Error;
    out.destroy();
    throw err;
  } finally {
    file.update();
  }
}

async function feedSink(bytes: AsyncIterable<Buffer>, size: number, sink: AudioSink, onFirst: () => void, onPlayed: (n: number) => void, signal?: AbortSignal): Promise<number> {
  const parser = new WavStreamParser(size);
  let opened = false;
  let pcmBytes = 0;
  try {
    for await (const chunk of bytes) {
      signal?.throwIfAborted();
      const pcm = parser.push(chunk);
      if (!opened && parser.info) {
        opened = true;
        await sink.open(parser.info.format);
      }
      if (pcm.length > 0) {
        if (pcmBytes === 0) onFirst();
        await sink.write(pcm);
        pcmBytes += pcm.length;
        onPlayed(pcmBytes);
      }
    }
    signal?.throwIfAborted();
  } catch (err) {
    // a failed or stopped stream leaves nothing under the recording's name
    if (opened) await sink.abort();
    throw err;
  }
  if (!parser.info) throw new AudioLabError('AUDIOLAB_ERR_BAD_FORMAT', 'Stream ended inside the WAV header');
  await sink.close();
  return pcmBytes;
}

/** Why playback stopped: the signal's reason when it is coded, else AUDIOLAB_ERR_INTERRUPTED. */
function stopped(signal: AbortSignal, song: string): AudioLabError {
  return signal.reason instanceof AudioLabError ? signal.reason : new AudioLabError('AUDIOLAB_ERR_INTERRUPTED', 'Playback stopped', { song });
}

export async function findSong(client: AudioLabClient, name: string): Promise<SongInfo> {
  // the catalog this client last saw; asked again (once) only if the song is not in it
  const find = (songs: SongInfo[] | undefined): SongInfo | undefined => songs?.find((s) => s.name === name);
  const song = find(client.catalog) ?? find(await client.list());
  if (!song) throw new AudioLabError('AUDIOLAB_ERR_NO_SUCH_SONG', `No song named ${JSON.stringify(name)} on the server`, { song: name });
  return song;
}

export async function playSong(
  client: AudioLabClient,
  name: string,
  options: { cache: SongCache; sink: AudioSink; onProgress?: (p: PlayProgress) => void; signal?: AbortSignal },
): Promise<PlayResult> {
  const t0 = performance.now();
  const { cache, sink } = options;
  const song = await findSong(client, name);
  let firstAudioMs = -1;
  const first = (): void => { firstAudioMs = performance.now() - t0; };
  const progress = (downloaded: number, played: number): void => options.onProgress?.({ downloaded, size: song.size, playedBytes: played });

  const cached = await cache.lookup(song);
  if (cached) {
    client.notePlayed(song, 'cache');
    const pcmBytes = await feedSink(createReadStream(cached) as AsyncIterable<Buffer>, song.size, sink, first, (n) => progress(song.size, n), options.signal);
    return { song, fromCache: true, resumedFrom: 0, downloadedBytes: 0, pcmBytes, firstAudioMs, totalMs: performance.now() - t0, underruns: sink.stats().underruns, cachePath: cached };
  }

  let offset = await cache.partialSize(song.sha256);
  if (offset >= song.size) {
    await cache.discardPartial(song.sha256);
    offset = 0;
  }
  const part = cache.partPathFor(song.sha256);
  if (offset === 0) await writeFile(part, '');
  const stream = await client.play(song.name, offset, sink.realtime);
  if (stream.header.sha256 !== song.sha256 || stream.header.size !== song.size) {
    stream.destroy();
    throw new AudioLabError('AUDIOLAB_ERR_CACHE', `${song.name} changed on the server while playing; try again`, { song: song.name });
  }
  const file = new GrowingFile(offset);
  let played = 0;
  // Stopping (Ctrl-C, or a test) cancels the stream; the .part file stays, so the next play resumes.
  const stop = (): void => client.cancel(stream, 'playback stopped');
  options.signal?.addEventListener('abort', stop, { once: true });
  const dl = download(stream, part, file, () => progress(file.written, played));
  const pb = feedSink(readGrowing(part, file), song.size, sink, first, (n) => { played = n; progress(file.written, n); }, options.signal);
  pb.catch(stop);
  const [dlResult, pbResult] = await Promise.allSettled([dl, pb]);
  options.signal?.removeEventListener('abort', stop);
  // A download that completed is verified and kept, even when its playback was stopped or failed:
  // the next play needs no transfer. An incomplete one stays as .part, to be resumed.
  let cachePath = '';
  if (dlResult.status === 'fulfilled') cachePath = await cache.commit(song);
  if (options.signal?.aborted) throw stopped(options.signal, song.name);
  if (pbResult.status === 'rejected') throw pbResult.reason;
  if (dlResult.status === 'rejected') throw dlResult.reason;
  return {
    song, fromCache: false, resumedFrom: offset, downloadedBytes: song.size - offset, pcmBytes: pbResult.value,
    firstAudioMs, totalMs: performance.now() - t0, underruns: sink.stats().underruns, cachePath,
  };
}

/**
 * Plays a stream pushed to this client (play-on, relay) into a sink; returns the PCM byte count.
 * A stream that fails or is cancelled (AudioLabClient.cancel) leaves no recording.
 */
export async function playIncoming(stream: IncomingStream, sink: AudioSink): Promise<number> {
  return feedSink(stream as AsyncIterable<Buffer>, stream.header.size, sink, () => {}, () => {});
}
