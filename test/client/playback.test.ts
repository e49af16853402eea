/** Play while downloading, the cache, resume, and the sinks — against a real server on loopback. */
import { afterEach, describe, expect, it } from 'vitest';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import wav from 'wav';
import { bigWav, MUSIC, startServer, tempDir, type TestLab } from '../helpers.ts';
import { SongCache } from '../../services/client/cache.ts';
import { playSong, type PlayProgress } from '../../services/client/player.ts';
import { NullSink, RecorderSink } from '../../services/client/sinks/index.ts';
import { PlaybackClock } from '../../services/client/sinks/clock.ts';
import { parseWavHeader } from '../../services/common/wav.ts';

let lab: TestLab;
afterEach(async () => { await lab?.close(); });

/** The PCM of a WAV file, read with the `wav` package (an independent reader). */
async function pcmOf(path: string): Promise<Buffer> {
  const reader = new wav.Reader();
  const parts: Buffer[] = [];
  reader.on('data', (c: Buffer) => parts.push(c));
  const done = new Promise((r) => reader.on('end', r));
  reader.end(await readFile(path));
  await done;
  return Buffer.concat(parts);
}

function pcmOfBytes(file: Buffer): Buffer {
  const info = parseWavHeader(file, file.length)!;
  return file.subarray(info.dataOffset, info.dataOffset + info.dataLength);
}

describe('play while downloading', () => {
  for (const song of ['ode-to-joy.wav', 'frere-jacques-8bit.wav', 'scale-24bit-48k.wav', 'chimes-32bit-16k.wav']) {
    it(`records exactly the song's PCM: ${song}`, async () => {
      lab = await startServer();
      const c = await lab.client('a');
      const dir = await tempDir();
      const out = join(dir, 'rec.wav');
      const r = await playSong(c, song, { cache: new SongCache(join(dir, 'cache')), sink: new RecorderSink(out) });
      const source = await readFile(join(MUSIC, song));
      expect(r.fromCache).toBe(false);
      expect(r.pcmBytes).toBe(pcmOfBytes(source).length);
      expect((await pcmOf(out)).equals(pcmOfBytes(source))).toBe(true);
      // the header was rewritten with the final sizes once the file was complete
      const rec = await readFile(out);
      expect(parseWavHeader(rec, rec.length)!.dataLength).toBe(pcmOfBytes(source).length);
      expect(rec.readUInt32LE(4)).toBe(rec.length - 8);
    });
  }

  it('starts playing before the download is complete', async () => {
    lab = await startServer();
    await writeFile(join(lab.musicDir, 'long.wav'), bigWav(30_000_000, 2));
    await lab.server.catalog.scan();
    const c = await lab.client('a');
    const dir = await tempDir();
    let atFirstAudio: PlayProgress | undefined;
    const stop = new AbortController();
    const played = playSong(c, 'long.wav', {
      cache: new SongCache(join(dir, 'cache')),
      sink: new NullSink({ realtime: true }),
      signal: stop.signal,
      onProgress: (p) => {
        if (!atFirstAudio && p.playedBytes > 0) {
          atFirstAudio = { ...p };
          stop.abort();
        }
      },
    });
    await expect(played).rejects.toMatchObject({ message: 'Playback stopped' });
    expect(atFirstAudio).toBeDefined();
    expect(atFirstAudio!.playedBytes).toBeGreaterThan(0);
    expect(atFirstAudio!.downloaded).toBeLessThan(30_000_000);
    // the stopped download is kept for resuming, never as a complete cache entry
    const files = await readdir(join(dir, 'cache'));
    expect(files.filter((f) => f.endsWith('.wav'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.part'))).toHaveLength(1);
  });
});

describe('cache', () => {
  it('replays a cached song with no network transfer', async () => {
    lab = await startServer();
    const c = await lab.client('a');
    const cache = new SongCache(join(await tempDir(), 'cache'));
    await playSong(c, 'ode-to-joy.wav', { cache, sink: new NullSink() });
    const before = c.connection.bytesIn;
    const again = await playSong(c, 'ode-to-joy.wav', { cache, sink: new NullSink() });
    expect(again.fromCache).toBe(true);
    expect(again.downloadedBytes).toBe(0);
    expect(c.connection.bytesIn - before).toBeLessThan(1000); // no song bytes came over the network
    expect(again.pcmBytes).toBe(705600);
  });

  it('rebuilds a garbage index.json from the cached files: none is orphaned, eviction still sees them all', async () => {
    lab = await startServer();
    const c = await lab.client('a');
    const dir = join(await tempDir(), 'cache');
    const first = new SongCache(dir);
    const a = await playSong(c, 'ode-to-joy.wav', { cache: first, sink: new NullSink() });
    const b = await playSong(c, 'scale-24bit-48k.wav', { cache: first, sink: new NullSink() });
    await writeFile(join(dir, 'index.json'), '{"not": "an index"');
    const again = new SongCache(dir);
    const replay = await playSong(c, 'ode-to-joy.wav', { cache: again, sink: new NullSink() });
    expect(replay.fromCache).toBe(true);
    expect((await again.entries()).map((e) => e.sha256).sort()).toEqual([a.song.sha256, b.song.sha256].sort());
    // a cache that holds one song: the next download evicts both older ones, which a lost index would have kept for ever
    const small = new SongCache(dir, 400_000);
    const c3 = await playSong(c, 'frere-jacques-8bit.wav', { cache: small, sink: new NullSink() });
    expect((await readdir(dir)).filter((f) => f.endsWith('.wav'))).toEqual([`${c3.song.sha256}.wav`]);
  });

  it('refetches a corrupt entry', async () => {
    lab = await startServer();
    const c = await lab.client('a');
    const cache = new SongCache(join(await tempDir(), 'cache'));
    const first = await playSong(c, 'ode-to-joy.wav', { cache, sink: new NullSink() });
    const bytes = await readFile(first.cachePath);
    bytes[5000] = bytes[5000]! ^ 0x55;
    await writeFile(first.cachePath, bytes);
    const again = await playSong(c, 'ode-to-joy.wav', { cache, sink: new NullSink() });
    expect(again.fromCache).toBe(false);
    expect((await readFile(again.cachePath)).equals(await readFile(join(MUSIC, 'ode-to-joy.wav')))).toBe(true);
  });

  it('resumes an interrupted download from its offset', async () => {
    lab = await startServer();
    await writeFile(join(lab.musicDir, 'long.wav'), bigWav(8_000_000, 4));
    await lab.server.catalog.scan();
    const cacheDir = join(await tempDir(), 'cache');
    const a = await lab.client('a');
    await expect(playSong(a, 'long.wav', {
      cache: new SongCache(cacheDir), sink: new NullSink(),
      onProgress: (p) => { if (p.downloaded > 2_000_000 && a.connected) a.connection.destroy(); },
    })).rejects.toBeDefined();
    const part = (await readdir(cacheDir)).find((f) => f.endsWith('.part'))!;
    const partial = (await stat(join(cacheDir, part))).size;
    expect(partial).toBeGreaterThan(0);
    const b = await lab.client('b');
    const dir = await tempDir();
    const r = await playSong(b, 'long.wav', { cache: new SongCache(cacheDir), sink: new RecorderSink(join(dir, 'rec.wav')) });
    expect(r.resumedFrom).toBe(partial);
    expect(r.downloadedBytes).toBe(r.song.size - partial);
    const source = await readFile(join(lab.musicDir, 'long.wav'));
    expect((await readFile(r.cachePath)).equals(source)).toBe(true);
    expect((await pcmOf(join(dir, 'rec.wav'))).equals(pcmOfBytes(source))).toBe(true);
  });

  it('stays within its size limit, evicting the least recently used', async () => {
    lab = await startServer();
    const c = await lab.client('a');
    const cache = new SongCache(join(await tempDir(), 'cache'), 1_000_000);
    await playSong(c, 'scale-24bit-48k.wav', { cache, sink: new NullSink() }); // 576 KB
    await playSong(c, 'chimes-32bit-16k.wav', { cache, sink: new NullSink() }); // 336 KB -> 912 KB total
    await playSong(c, 'frere-jacques-8bit.wav', { cache, sink: new NullSink() }); // 106 KB -> evicts scale
    const names = (await cache.entries()).map((e) => e.name).sort();
    expect(names).toEqual(['chimes-32bit-16k.wav', 'frere-jacques-8bit.wav']);
    const total = (await cache.entries()).reduce((s, e) => s + e.size, 0);
    expect(total).toBeLessThanOrEqual(1_000_000);
  });
});

describe('real-time sinks', () => {
  it('a real-time recorder takes as long as the song (it paces like a device)', async () => {
    lab = await startServer();
    const c = await lab.client('a');
    const dir = await tempDir();
    const r = await playSong(c, 'scale-24bit-48k.wav', { cache: new SongCache(join(dir, 'cache')), sink: new RecorderSink(join(dir, 'rt.wav'), { realtime: true }) });
    expect(r.totalMs).toBeGreaterThanOrEqual(r.song.durationMs * 0.9);
    expect(r.underruns).toEqual([]);
  });

  it('detects and timestamps an underrun when audio arrives after the buffer ran dry', async () => {
    const seen: unknown[] = [];
    const clock = new PlaybackClock(8000, { leadMs: 50, onUnderrun: (u) => seen.push(u) });
    await clock.pace(800); // 100 ms of audio
    await new Promise((r) => setTimeout(r, 400)); // the source stalls
    await clock.pace(800);
    expect(clock.underruns).toHaveLength(1);
    expect(clock.underruns[0]!.positionMs).toBe(100);
    expect(clock.underruns[0]!.gapMs).toBeGreaterThanOrEqual(200);
    expect(seen).toHaveLength(1);
  });
});
