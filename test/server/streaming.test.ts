/** The streaming system over real loopback sockets: every function, two clients at once. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { bigWav, collect, MUSIC, rawClient, startServer, tempDir, waitFor, writeTemp, type TestLab } from '../helpers.ts';
import { REALTIME_LEAD_MS, type ClientInfo, type SongInfo } from '../../services/protocol/index.ts';
import type { IncomingStream } from '../../services/client/incoming.ts';
import { BLOCK_SIZE } from '../../services/server/blocks.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
let lab: TestLab;
afterEach(async () => { await lab?.close(); });

describe('welcome and presence', () => {
  it('welcomes a client with the clients online and tells others of joins, listens and leaves', async () => {
    lab = await startServer();
    const b = await lab.client('client-b');
    const events: string[] = [];
    b.on('presence', (e, c) => events.push(`${e}:${c.name}:${c.listening}`));
    const a = await lab.client('client-a');
    expect(a.motd).toMatch(/client-a.*1 other client is online/);
    expect(a.clients.map((c: ClientInfo) => c.name).sort()).toEqual(['client-a', 'client-b']);
    await a.listen(true);
    await a.close();
    await waitFor(() => events.length === 3);
    expect(events).toEqual(['join:client-a:false', 'listen:client-a:true', 'leave:client-a:true']);
  });

  it('gives a taken name a suffix', async () => {
    lab = await startServer();
    await lab.client('twin');
    const second = await lab.client('twin');
    expect(second.me?.name).toBe('twin-2');
  });
});

describe('catalog', () => {
  it('lists every valid song with format, duration, size and sha256, and leaves out bad files', async () => {
    lab = await startServer();
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(lab.musicDir, 'not-audio.wav'), 'hello, I am text');
    await writeFile(join(lab.musicDir, 'truncated.wav'), (await readFile(join(MUSIC, 'ode-to-joy.wav'))).subarray(0, 1000));
    await lab.server.catalog.scan();
    const a = await lab.client('a');
    const songs = await a.list();
    const names = songs.map((s: SongInfo) => s.name).sort();
    expect(names).toEqual(['chimes-32bit-16k.wav', 'frere-jacques-8bit.wav', 'ode-to-joy.wav', 'scale-24bit-48k.wav']);
    for (const s of songs) {
      const bytes = await readFile(join(MUSIC, s.name));
      expect(s.size).toBe(bytes.length);
      expect(s.sha256).toBe(sha(bytes));
    }
    const ode = songs.find((s: SongInfo) => s.name === 'ode-to-joy.wav')!;
    expect(ode).toMatchObject({ sampleRate: 44100, channels: 2, bitsPerSample: 16, durationMs: 4000 });
    const scale = songs.find((s: SongInfo) => s.name === 'scale-24bit-48k.wav')!;
    expect(scale).toMatchObject({ sampleRate: 48000, bitsPerSample: 24, durationMs: 2000 });
  });
});

describe('play', () => {
  it('streams a song byte for byte, and resumes from an offset', async () => {
    lab = await startServer();
    const a = await lab.client('a');
    const file = await readFile(join(MUSIC, 'ode-to-joy.wav'));
    const s = await a.play('ode-to-joy.wav');
    expect(s.header).toMatchObject({ kind: 'play', size: file.length, offset: 0, sha256: sha(file) });
    expect((await collect(s)).equals(file)).toBe(true);
    const rest = await collect(await a.play('ode-to-joy.wav', 300_001));
    expect(rest.equals(file.subarray(300_001))).toBe(true);
  });

  it('answers unknown songs, hostile names and bad offsets with coded errors and carries on', async () => {
    lab = await startServer();
    const a = await lab.client('a');
    await expect(a.play('nope.wav')).rejects.toMatchObject({ code: 'AUDIOLAB_ERR_NO_SUCH_SONG' });
    await expect(a.play('../../etc/passwd')).rejects.toMatchObject({ code: 'AUDIOLAB_ERR_NO_SUCH_SONG' });
    await expect(a.play('ode-to-joy.wav', 10_000_000)).rejects.toMatchObject({ code: 'AUDIOLAB_ERR_BAD_OFFSET' });
    expect((await a.list()).length).toBe(4);
  });

  it('serves two clients at once', async () => {
    lab = await startServer();
    const [a, b] = [await lab.client('a'), await lab.client('b')];
    const [x, y] = await Promise.all([a.play('ode-to-joy.wav').then(collect), b.play('scale-24bit-48k.wav').then(collect)]);
    expect(x.equals(await readFile(join(MUSIC, 'ode-to-joy.wav')))).toBe(true);
    expect(y.equals(await readFile(join(MUSIC, 'scale-24bit-48k.wav')))).toBe(true);
  });
});

describe('fan-out', () => {
  it('reads each block of a song once for many listeners at once, and each gets the song byte for byte', async () => {
    lab = await startServer();
    const file = await readFile(join(MUSIC, 'ode-to-joy.wav'));
    const clients = await Promise.all(Array.from({ length: 24 }, (_, i) => lab.client(`l${i}`)));
    const got = await Promise.all(clients.map(async (c) => collect(await c.play('ode-to-joy.wav'))));
    for (const g of got) expect(g.equals(file)).toBe(true);
    expect(lab.server.blocks.reads).toBe(Math.ceil(file.length / BLOCK_SIZE));
    expect(lab.server.blocks.hits).toBeGreaterThan(0);
  });

  it('cuts chunks at the file\'s chunk boundaries from any offset, and a resume is exact', async () => {
    lab = await startServer({ chunkSize: 5000 });
    const file = await readFile(join(MUSIC, 'ode-to-joy.wav'));
    const raw = await rawClient(lab.port);
    raw.conn.send({ type: 'PLAY', req: 1, song: 'ode-to-joy.wav', offset: 123_457 });
    await raw.next('STREAM_END');
    const data = raw.messages.filter((m) => m.type === 'DATA');
    expect(data.slice(0, 3).map((m) => [m.offset, m.data.length])).toEqual([[123_457, 1543], [125_000, 5000], [130_000, 1072]]);
    expect(Buffer.concat(data.map((m) => m.data)).equals(file.subarray(123_457))).toBe(true);
    expect(data.map((m) => m.seq)).toEqual(data.map((_, i) => i));
  });
});

describe('real-time play', () => {
  it('sends a realtime PLAY at the song\'s pace, REALTIME_LEAD_MS ahead, never further, and the bytes are the song', async () => {
    lab = await startServer();
    const file = await readFile(join(MUSIC, 'ode-to-joy.wav')); // 176 400 B/s, 4 s
    const rate = 176_400;
    const lead = (rate * REALTIME_LEAD_MS) / 1000;
    const raw = await rawClient(lab.port);
    const ahead: number[] = [];
    let t0 = 0;
    raw.conn.on('message', (m) => {
      if (m.type === 'STREAM_START') t0 = performance.now();
      // how far past its pace the stream got: never more than the lead and one block
      if (m.type === 'DATA') ahead.push(m.offset + m.data.length - lead - (rate * (performance.now() - t0)) / 1000);
    });
    raw.conn.send({ type: 'PLAY', req: 1, song: 'ode-to-joy.wav', offset: 0, realtime: true });
    await raw.next('STREAM_END', 20_000);
    const took = performance.now() - t0;
    expect(Math.max(...ahead)).toBeLessThanOrEqual(BLOCK_SIZE);
    expect(took).toBeGreaterThanOrEqual(((file.length - lead - BLOCK_SIZE) / rate) * 1000);
    const data = raw.messages.filter((m) => m.type === 'DATA');
    expect(Buffer.concat(data.map((m) => m.data)).equals(file)).toBe(true);
  });
});

describe('upload', () => {
  it('stores a verified upload and tells every client the catalog changed', async () => {
    lab = await startServer();
    const a = await lab.client('a');
    const b = await lab.client('b');
    const changes: string[][] = [];
    b.on('catalog', (songs) => changes.push(songs.map((s) => s.name)));
    const wav = bigWav(300_000, 7);
    const path = await writeTemp('my song.wav', wav);
    const done = await a.upload(path);
    expect(done).toMatchObject({ name: 'my song.wav', sha256: sha(wav) });
    expect((await readFile(join(lab.musicDir, 'my song.wav'))).equals(wav)).toBe(true);
    await waitFor(() => changes.length === 1);
    expect(changes[0]).toContain('my song.wav');
    // a second upload under the same name gets a free name
    const again = await a.upload(path);
    expect(again.name).toBe('my song (2).wav');
    expect((await b.list()).map((s) => s.name)).toContain('my song (2).wav');
  });

  it('uploads under one name at once keep every one: each stored whole, under its own name', async () => {
    lab = await startServer();
    const clients = await Promise.all(Array.from({ length: 6 }, (_, i) => lab.client(`up${i}`)));
    for (let round = 0; round < 5; round++) {
      const wavs = clients.map((_, i) => bigWav(20_000, 1000 * round + i + 1));
      const paths = await Promise.all(wavs.map((w, i) => writeTemp(`r${round}-${i}.wav`, w)));
      const name = `same-${round}.wav`;
      const done = await Promise.all(clients.map((c, i) => c.upload(paths[i]!, name)));
      expect(done.map((d) => d.sha256)).toEqual(wavs.map(sha));
      expect(new Set(done.map((d) => d.name)).size).toBe(clients.length);
      for (const [i, d] of done.entries()) expect(sha(await readFile(join(lab.musicDir, d.name)))).toBe(sha(wavs[i]!));
    }
  });

  it('names every rule holds in bytes too, and alternative names keep the extension last', async () => {
    lab = await startServer();
    const a = await lab.client('a');
    const wav = await writeTemp('n.wav', bigWav(20_000));
    // 100 characters, 300 bytes: within the character limit, beyond what a file system takes
    const long = `${'€'.repeat(96)}.wav`;
    const err = await a.upload(wav, long).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AUDIOLAB_ERR_BAD_NAME' });
    expect((err as Error).message).not.toContain(lab.musicDir);
    expect((await a.upload(wav, 'İİİİ.wav')).name).toBe('İİİİ.wav');
    expect((await a.upload(wav, 'İİİİ.wav')).name).toBe('İİİİ (2).wav');
  });

  it('removes what unfinished uploads of an earlier run left behind when it starts', async () => {
    const musicDir = await tempDir('audiolab-music-');
    await mkdir(join(musicDir, '.incoming'));
    await writeFile(join(musicDir, '.incoming', 'killed-mid-upload.part'), Buffer.alloc(1000));
    lab = await startServer({ musicDir });
    expect(await readdir(join(musicDir, '.incoming')).catch(() => [])).toEqual([]);
  });

  it('refuses hostile names, non-WAV content, oversize uploads and wrong hashes, leaving nothing behind', async () => {
    lab = await startServer({ maxUploadBytes: 1_000_000 });
    const a = await lab.client('a');
    const good = await writeTemp('x.wav', bigWav(100_000));
    for (const name of ['../../etc/passwd', '../evil.wav', '.hidden.wav', 'a/b.wav', 'C:\\x.wav', 'song.mp3', '']) {
      await expect(a.upload(good, name)).rejects.toMatchObject({ code: 'AUDIOLAB_ERR_BAD_NAME' });
    }
    const text = await writeTemp('text.wav', Buffer.from('This is not audio at all, just text that is long enough to be more than a header.'.repeat(100)));
    await expect(a.upload(text)).rejects.toMatchObject({ code: 'AUDIOLAB_ERR_BAD_FORMAT' });
    const big = await writeTemp('big.wav', bigWav(2_000_000));
    await expect(a.upload(big)).rejects.toMatchObject({ code: 'AUDIOLAB_ERR_TOO_LARGE' });
    const before = (await readdir(lab.musicDir)).sort();
    expect(before).toEqual(['.incoming', 'chimes-32bit-16k.wav', 'frere-jacques-8bit.wav', 'ode-to-joy.wav', 'scale-24bit-48k.wav']);
    expect(await readdir(join(lab.musicDir, '.incoming'))).toEqual([]);
    expect((await a.list()).length).toBe(4);
  });

  it('leaves no file when the uploader vanishes mid-upload, and serves others meanwhile', async () => {
    lab = await startServer();
    const a = await lab.client('a', { chunkSize: 8192 });
    const b = await lab.client('b');
    const path = await writeTemp('gone.wav', bigWav(8_000_000));
    const failed = a.upload(path, 'gone.wav', (sent) => { if (sent > 1_000_000 && a.connected) a.connection.destroy(); });
    await expect(failed).rejects.toMatchObject({ code: expect.stringMatching(/AUDIOLAB_ERR_(CONNECTION|PEER_GONE)/) });
    expect(await waitFor(async () => (await readdir(join(lab.musicDir, '.incoming'))).length === 0)).toBe(true);
    expect((await readdir(lab.musicDir)).filter((f) => f.startsWith('gone'))).toEqual([]);
    expect((await b.list()).map((s) => s.name)).not.toContain('gone.wav');
  });
});

describe('listen, play-on and relay', () => {
  async function receiver(name: string): Promise<{ client: Awaited<ReturnType<TestLab['client']>>; streams: IncomingStream[] }> {
    const client = await lab.client(name);
    const streams: IncomingStream[] = [];
    client.inviteHandler = () => true;
    client.on('stream', (s) => streams.push(s));
    await client.listen(true);
    return { client, streams };
  }

  it('plays a library song on another client', async () => {
    lab = await startServer();
    const { streams } = await receiver('client-b');
    const a = await lab.client('client-a');
    const got: Promise<Buffer>[] = [];
    const result = a.playOn('client-b', 'frere-jacques-8bit.wav');
    await waitFor(() => streams.length === 1);
    got.push(collect(streams[0]!));
    const ok = await result;
    const file = await readFile(join(MUSIC, 'frere-jacques-8bit.wav'));
    expect(ok).toMatchObject({ status: 'played', bytes: file.length });
    expect(streams[0]!.header).toMatchObject({ kind: 'play-on', from: 'client-a', song: 'frere-jacques-8bit.wav' });
    expect((await got[0]!).equals(file)).toBe(true);
  });

  it('gives clear answers when the receiver refuses, is not listening, or does not exist', async () => {
    lab = await startServer();
    const b = await lab.client('client-b');
    const a = await lab.client('client-a');
    await expect(a.playOn('client-b', 'ode-to-joy.wav')).rejects.toMatchObject({ code: 'AUDIOLAB_ERR_NOT_LISTENING' });
    await expect(a.playOn('nobody', 'ode-to-joy.wav')).rejects.toMatchObject({ code: 'AUDIOLAB_ERR_NO_SUCH_CLIENT' });
    await b.listen(true);
    b.inviteHandler = () => 'busy practising';
    await expect(a.playOn('client-b', 'ode-to-joy.wav')).rejects.toMatchObject({ code: 'AUDIOLAB_ERR_REFUSED', message: /busy practising/ });
    await expect(a.playOn('client-b', 'missing.wav')).rejects.toMatchObject({ code: 'AUDIOLAB_ERR_NO_SUCH_SONG' });
  });

  it('relays a client\'s own song to another client through the server', async () => {
    lab = await startServer();
    const { streams } = await receiver('client-b');
    const a = await lab.client('client-a');
    const wav = bigWav(2_000_000, 3);
    const path = await writeTemp('my-own.wav', wav);
    const sent = a.sendTo('client-b', path);
    await waitFor(() => streams.length === 1);
    const [ok, got] = await Promise.all([sent, collect(streams[0]!)]);
    expect(ok).toMatchObject({ status: 'relayed', bytes: wav.length });
    expect(streams[0]!.header).toMatchObject({ kind: 'relay', from: 'client-a', song: 'my-own.wav', sha256: sha(wav) });
    expect(got.equals(wav)).toBe(true);
    // the server stored nothing
    expect((await readdir(lab.musicDir)).filter((f) => f.includes('my-own'))).toEqual([]);
  });

  it('holds a slow receiver\'s relay in bounded memory: the receiver\'s backpressure reaches the sender', async () => {
    lab = await startServer();
    const { streams } = await receiver('client-b');
    const a = await lab.client('client-a');
    const wav = bigWav(64_000_000, 5);
    const path = await writeTemp('long.wav', wav);
    let sentBytes = 0;
    const sent = a.sendTo('client-b', path, (n) => { sentBytes = n; });
    await waitFor(() => streams.length === 1);
    // B reads nothing: the transfer must stall long before the end of the file
    let last = -1;
    let maxServerBuffered = 0;
    await waitFor(() => {
      maxServerBuffered = Math.max(maxServerBuffered, lab.server.bufferedBytes());
      const stalled = sentBytes === last && sentBytes > 0;
      last = sentBytes;
      return stalled;
    }, 20_000, 300);
    expect(sentBytes).toBeLessThan(wav.length / 2);
    expect(maxServerBuffered).toBeLessThan(2 * 1024 * 1024);
    // B starts reading: everything arrives intact
    const [ok, got] = await Promise.all([sent, collect(streams[0]!)]);
    expect(ok.bytes).toBe(wav.length);
    expect(sha(got)).toBe(sha(wav));
  });

  it('tells the receiver with a coded error when the sender vanishes mid-relay, and the sender when the receiver does', async () => {
    lab = await startServer();
    const { streams } = await receiver('client-b');
    const a = await lab.client('client-a', { chunkSize: 8192 });
    const path = await writeTemp('cut.wav', bigWav(20_000_000, 9));
    const sent = a.sendTo('client-b', path, (n) => { if (n > 500_000 && a.connected) a.connection.destroy(); }).then(() => 'delivered', (e: unknown) => e);
    await waitFor(() => streams.length === 1);
    await expect(collect(streams[0]!)).rejects.toMatchObject({ code: 'AUDIOLAB_ERR_PEER_GONE' });
    expect(await sent).toMatchObject({ code: 'AUDIOLAB_ERR_CONNECTION' });

    const r2 = await receiver('client-c');
    const a2 = await lab.client('client-a2', { chunkSize: 8192 });
    const sent2 = a2.sendTo('client-c', path);
    await waitFor(() => r2.streams.length === 1);
    r2.streams[0]!.on('data', () => { if (r2.client.connected) r2.client.connection.destroy(); });
    await expect(sent2).rejects.toMatchObject({ code: 'AUDIOLAB_ERR_PEER_GONE' });
    expect(await a2.list()).toHaveLength(4); // the sender carries on
  });
});

describe('upload integrity', () => {
  it('rejects content whose sha256 differs from the declared one, leaving nothing', async () => {
    lab = await startServer();
    const raw = await rawClient(lab.port);
    const wav = bigWav(200_000, 11);
    raw.conn.send({ type: 'UPLOAD', req: 1, name: 'swap.wav', size: wav.length, sha256: '0'.repeat(64) });
    const ready = await raw.next('READY');
    for (let off = 0; off < wav.length; off += 16384) raw.conn.sendData(ready.streamId, 0, off, wav.subarray(off, off + 16384));
    raw.conn.send({ type: 'STREAM_END', streamId: ready.streamId, bytes: wav.length });
    expect(await raw.next('ERROR')).toMatchObject({ req: 1, code: 'AUDIOLAB_ERR_HASH_MISMATCH' });
    expect((await readdir(lab.musicDir)).filter((f) => f.startsWith('swap'))).toEqual([]);
    expect(await readdir(join(lab.musicDir, '.incoming'))).toEqual([]);
  });

  it('rejects chunks beyond the declared size and out-of-order chunks', async () => {
    lab = await startServer();
    const raw = await rawClient(lab.port);
    const wav = bigWav(50_000, 12);
    raw.conn.send({ type: 'UPLOAD', req: 1, name: 'over.wav', size: 40_000, sha256: '0'.repeat(64) });
    const r1 = await raw.next('READY');
    raw.conn.sendData(r1.streamId, 0, 0, wav);
    expect(await raw.next('ERROR')).toMatchObject({ req: 1, code: 'AUDIOLAB_ERR_SIZE_MISMATCH' });
    raw.conn.send({ type: 'UPLOAD', req: 2, name: 'order.wav', size: wav.length, sha256: '0'.repeat(64) });
    const r2 = await raw.next('READY');
    raw.conn.sendData(r2.streamId, 0, 100, wav.subarray(100, 200));
    expect(await raw.next('ERROR')).toMatchObject({ req: 2, code: 'AUDIOLAB_ERR_BAD_OFFSET' });
    expect(await waitFor(async () => (await readdir(join(lab.musicDir, '.incoming'))).length === 0)).toBe(true);
  });
});

describe('listener hygiene', () => {
  it('waiting for drain many times does not pile up socket listeners', async () => {
    lab = await startServer();
    const a = await lab.client('a');
    const s = await a.play('ode-to-joy.wav');
    await collect(s);
    const big = await writeTemp('big.wav', bigWav(8_000_000, 21));
    await a.upload(big, 'big.wav');
    const sock = a.connection.socket;
    expect(sock.listenerCount('close')).toBeLessThan(5);
    expect(sock.listenerCount('drain')).toBe(0);
  });
});

describe('upload backpressure', () => {
  it('keeps reading the uploader\'s requests after an upload whose last chunks met disk backpressure', async () => {
    lab = await startServer();
    const raw = await rawClient(lab.port);
    for (let round = 0; round < 5; round++) {
      const wav = bigWav(2_000_000, 30 + round);
      const { createHash } = await import('node:crypto');
      raw.conn.send({ type: 'UPLOAD', req: 100 + round, name: `bp-${round}.wav`, size: wav.length, sha256: createHash('sha256').update(wav).digest('hex') });
      const ready = await raw.next('READY');
      // every chunk and the end in one burst: the server pauses for the disk while STREAM_END is already read
      const frames: Buffer[] = [];
      for (let off = 0, seq = 0; off < wav.length; off += 16384, seq++) {
        const { encodeDataHeader } = await import('../../services/protocol/index.ts');
        const piece = wav.subarray(off, off + 16384);
        frames.push(encodeDataHeader(ready.streamId, seq, off, piece.length), piece);
      }
      const { encodeToBuffer } = await import('../../services/protocol/index.ts');
      frames.push(encodeToBuffer({ type: 'STREAM_END', streamId: ready.streamId, bytes: wav.length }));
      raw.conn.socket.write(Buffer.concat(frames));
      expect(await raw.next('UPLOAD_DONE')).toMatchObject({ req: 100 + round });
      raw.conn.send({ type: 'LIST', req: 200 + round });
      let answer = await raw.next('CATALOG', 5000); // the upload's pushed CATALOG may come first
      if (answer.req === undefined) answer = await raw.next('CATALOG', 5000);
      expect(answer).toMatchObject({ req: 200 + round });
    }
  });
});
