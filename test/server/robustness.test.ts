/** Bad parties get a coded error; everyone else carries on. Limits, timeouts and shutdown. */
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { bigWav, rawClient, startServer, waitFor, writeTemp, type RawClient, type TestLab } from '../helpers.ts';
import { AudioLabClient } from '../../services/client/client.ts';
import { decodeFrame, encodeHeader, encodeToBuffer, FrameDecoder, type Message, type SongInfo } from '../../services/protocol/index.ts';
import type { AudioLabError } from '../../services/protocol/errors.ts';

let lab: TestLab;
afterEach(async () => { await lab?.close(); });

/** Sends raw bytes, returns every message the server answered before closing. */
async function sendRaw(port: number, bytes: Buffer): Promise<Message[]> {
  const socket = connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  const got: Message[] = [];
  const dec = new FrameDecoder((f) => got.push(decodeFrame(f)), () => {});
  socket.on('data', (c: Buffer) => dec.push(c));
  socket.write(bytes);
  await once(socket, 'close');
  return got;
}

describe('malformed input', () => {
  it('answers garbage with a fatal BAD_MAGIC error and closes only that connection', async () => {
    lab = await startServer();
    const good = await lab.client('good');
    const got = await sendRaw(lab.port, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(got).toMatchObject([{ type: 'ERROR', code: 'AUDIOLAB_ERR_BAD_MAGIC', fatal: true }]);
    expect(await good.list()).toHaveLength(4);
  });

  it('survives an empty frame (8 bytes, length 0) before and after HELLO: a coded error, the others carry on', async () => {
    lab = await startServer();
    const good = await lab.client('good');
    const early = await rawClient(lab.port, false);
    early.conn.socket.write(encodeHeader(0x10, 0));
    expect(await early.next('ERROR')).toMatchObject({ code: 'AUDIOLAB_ERR_BAD_PAYLOAD' });
    const raw = await rawClient(lab.port);
    raw.conn.socket.write(encodeHeader(0x04, 0));
    expect(await raw.next('ERROR')).toMatchObject({ code: 'AUDIOLAB_ERR_BAD_PAYLOAD' });
    expect(await good.list()).toHaveLength(4);
  });

  it('drops a client that sends requests and reads nothing once its unread output passes the budget', async () => {
    lab = await startServer({ maxQueuedBytes: 1024 * 1024 });
    const good = await lab.client('good');
    const raw = await rawClient(lab.port);
    raw.conn.pause(); // reads nothing from here on
    const list = encodeToBuffer({ type: 'LIST', req: 1 });
    let dropped = false;
    void raw.closed.then(() => { dropped = true; });
    // far more CATALOG answers than the kernel's socket buffers and the budget together hold
    for (let i = 0; i < 200 && !dropped; i++) {
      raw.conn.socket.write(Buffer.concat(Array.from({ length: 500 }, () => list)));
      await new Promise((r) => setImmediate(r));
    }
    expect(await waitFor(() => dropped, 20_000)).toBe(true);
    expect(await good.list()).toHaveLength(4);
  });

  it('closes a connection that sends only messages that do not decode (unknown types, bad JSON), and no other', async () => {
    lab = await startServer();
    const good = await lab.client('good');
    for (const hello of [false, 'raw'] as const) {
      const raw = await rawClient(lab.port, hello);
      const junk = Buffer.concat([encodeHeader(0x7e, 2), Buffer.from('{}'), encodeHeader(0x10, 5), Buffer.from('{"a":')]);
      for (let i = 0; i < 20; i++) raw.conn.socket.write(junk);
      await raw.closed;
      expect(raw.messages.some((m) => m.type === 'ERROR' && m.fatal)).toBe(true);
    }
    expect(await good.list()).toHaveLength(4);
  });

  it('refuses an oversize control message from its header alone, and closes', async () => {
    lab = await startServer();
    const got = await sendRaw(lab.port, encodeHeader(0x10, 64 * 1024 + 1)); // LIST, no payload ever sent
    expect(got).toMatchObject([{ type: 'ERROR', code: 'AUDIOLAB_ERR_FRAME_TOO_LARGE', fatal: true }]);
  });

  it('refuses an oversize frame from its header', async () => {
    lab = await startServer();
    const got = await sendRaw(lab.port, encodeHeader(0x22, 50 * 1024 * 1024));
    expect(got).toMatchObject([{ type: 'ERROR', code: 'AUDIOLAB_ERR_FRAME_TOO_LARGE' }]);
  });

  it('refuses requests before HELLO', async () => {
    lab = await startServer();
    const raw = await rawClient(lab.port, false);
    raw.conn.send({ type: 'LIST', req: 1 });
    expect(await raw.next('ERROR')).toMatchObject({ code: 'AUDIOLAB_ERR_UNEXPECTED_MESSAGE', fatal: true });
    await raw.closed;
  });

  it('negotiates the version: a client speaking only unknown versions gets UNSUPPORTED_VERSION', async () => {
    lab = await startServer();
    const raw = await rawClient(lab.port, false);
    raw.conn.send({ type: 'HELLO', versions: [7, 8], name: 'future' });
    expect(await raw.next('ERROR')).toMatchObject({ code: 'AUDIOLAB_ERR_UNSUPPORTED_VERSION', fatal: true });
    const ok = await rawClient(lab.port, false);
    ok.conn.send({ type: 'HELLO', versions: [1, 2, 3], name: 'newer' });
    expect(await ok.next('WELCOME')).toMatchObject({ version: 1 });
  });

  it('answers an unknown type and a malformed payload with coded errors and keeps the connection', async () => {
    lab = await startServer();
    const raw = await rawClient(lab.port);
    raw.conn.socket.write(Buffer.concat([encodeHeader(0x99, 2), Buffer.from('{}')]));
    expect(await raw.next('ERROR')).toMatchObject({ code: 'AUDIOLAB_ERR_UNKNOWN_TYPE' });
    raw.conn.socket.write(Buffer.concat([encodeHeader(0x20, 9), Buffer.from('{"req":1}')]));
    expect(await raw.next('ERROR')).toMatchObject({ code: 'AUDIOLAB_ERR_BAD_PAYLOAD' });
    raw.conn.send({ type: 'LIST', req: 2 });
    expect(await raw.next('CATALOG')).toMatchObject({ req: 2 });
  });
});

describe('scale and limits', () => {
  it('holds 200 clients at once, each welcomed and served', async () => {
    lab = await startServer();
    const clients = await Promise.all(Array.from({ length: 200 }, (_, i) => lab.client(`c${i}`, { pingIntervalMs: 0 })));
    expect(lab.server.clientCount).toBe(200);
    expect(new Set(clients.map((c) => c.me?.name)).size).toBe(200);
    const lists = await Promise.all(clients.map((c) => c.list()));
    expect(lists.every((l) => l.length === 4)).toBe(true);
    // 200 joins at once reach the first as a count; WHO gives the list whole
    expect(await waitFor(() => clients[0]!.onlineCount === 200)).toBe(true);
    expect((await clients[0]!.who()).map((c) => c.name).sort()).toEqual(clients.map((c) => c.me!.name).sort());
  });

  it('no list outgrows a frame: 900 clients with long non-ASCII names, and a catalog of 400 songs with long names', async () => {
    lab = await startServer({ maxClients: 1000 });
    const name = (i: number): string => `${'Ω'.repeat(28)}${i}`;
    const clients: AudioLabClient[] = [];
    for (let i = 0; i < 900; i += 100) {
      clients.push(...await Promise.all(Array.from({ length: 100 }, (_, k) => lab.client(name(i + k), { pingIntervalMs: 0 }))));
    }
    // the last to come in got the count and the first page in its WELCOME, the rest by WHO (in pages)
    const last = clients.at(-1)!;
    expect(last.onlineCount).toBe(900);
    expect(last.listComplete).toBe(false);
    expect(await last.who()).toHaveLength(900);
    expect(Buffer.byteLength(JSON.stringify(last.clients))).toBeGreaterThan(64 * 1024);
    expect(await waitFor(() => clients[0]!.onlineCount === 900, 20_000)).toBe(true);
    // someone leaving is a delta to all: the server survives it and every list shrinks
    const gone = clients.shift()!;
    await gone.close();
    const watcher = clients.at(-1)!;
    await watcher.who();
    expect(await waitFor(() => watcher.onlineCount === 899 && !watcher.clients.some((c) => c.id === gone.me!.id), 20_000)).toBe(true);
    expect(await clients[0]!.who()).toHaveLength(899);
    // 400 songs of long names: more than one CATALOG frame
    const wav = bigWav(2000, 3);
    const long = (i: number): string => `${'ж'.repeat(110)} ${String(i).padStart(3, '0')}.wav`;
    await Promise.all(Array.from({ length: 400 }, (_, i) => writeFile(join(lab.musicDir, long(i)), wav)));
    await lab.server.catalog.scan();
    const songs = await clients[1]!.list();
    expect(songs).toHaveLength(404);
    expect(Buffer.byteLength(JSON.stringify(songs))).toBeGreaterThan(64 * 1024);
  }, 120_000);

  it('holds a catalog of 10 000 songs with long names: LIST gives all of them in pages, and an upload reaches everyone', async () => {
    lab = await startServer();
    const wav = bigWav(1000, 5);
    const long = (i: number): string => `${'ж'.repeat(110)} ${String(i).padStart(5, '0')}.wav`;
    for (let i = 0; i < 10_000; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, k) => writeFile(join(lab!.musicDir, long(i + k)), wav)));
    }
    await lab.server.catalog.scan();
    const a = await lab.client('a', { pingIntervalMs: 0 });
    const b = await lab.client('b', { pingIntervalMs: 0 });
    const songs = await a.list();
    expect(songs).toHaveLength(10_004);
    expect(new Set(songs.map((s) => s.name)).size).toBe(10_004);
    // an upload: every client is told of the new catalog, whole
    const pushed = once(b, 'catalog') as Promise<[SongInfo[], string]>;
    await a.upload(await writeTemp('new.wav', bigWav(3000, 6)), 'brand-new.wav');
    const [catalog] = await pushed;
    expect(catalog).toHaveLength(10_005);
    expect(catalog.some((s) => s.name === 'brand-new.wav')).toBe(true);
  }, 120_000);

  it('refuses clients beyond the maximum with SERVER_FULL', async () => {
    lab = await startServer({ maxClients: 3 });
    for (let i = 0; i < 3; i++) await lab.client(`c${i}`);
    const extra = new AudioLabClient({ port: lab.port, name: 'extra' });
    await expect(extra.connect()).rejects.toMatchObject({ code: 'AUDIOLAB_ERR_SERVER_FULL' });
  });

  it('closes idle connections with IDLE_TIMEOUT; a pinging client stays', async () => {
    lab = await startServer({ idleTimeoutMs: 1500 }); // wide margin: a loaded CI machine delays timers
    const idle = await lab.client('idle', { pingIntervalMs: 0 });
    const busy = await lab.client('busy', { pingIntervalMs: 100 });
    const [err] = (await once(idle, 'close')) as [AudioLabError | undefined];
    expect(err?.code).toBe('AUDIOLAB_ERR_IDLE_TIMEOUT');
    expect(busy.connected).toBe(true);
    expect(await busy.list()).toHaveLength(4);
  });

  it('slowloris gets no slot: a byte at a time never stands for HELLO, nor for a message after it', async () => {
    lab = await startServer({ helloTimeoutMs: 800, idleTimeoutMs: 1500 });
    const hello = encodeToBuffer({ type: 'HELLO', versions: [1], name: 'slow' });
    const bye = encodeToBuffer({ type: 'BYE', reason: 'x'.repeat(200) });
    const dribble = (raw: RawClient, bytes: Buffer): NodeJS.Timeout => {
      let i = 0;
      const t = setInterval(() => { if (i < bytes.length && !raw.conn.isClosed) raw.conn.socket.write(bytes.subarray(i, ++i)); }, 100);
      return t;
    };
    const early = await rawClient(lab.port, false);
    // each dribbles one frame, never finished, for longer than its clock allows
    const t1 = dribble(early, hello.subarray(0, hello.length - 1));
    const late = await rawClient(lab.port);
    const t2 = dribble(late, bye.subarray(0, bye.length - 1));
    try {
      expect(await early.next('ERROR', 10_000)).toMatchObject({ code: 'AUDIOLAB_ERR_HELLO_TIMEOUT', fatal: true });
      expect(await late.next('ERROR', 10_000)).toMatchObject({ code: 'AUDIOLAB_ERR_IDLE_TIMEOUT', fatal: true });
      await Promise.all([early.closed, late.closed]);
    } finally {
      clearInterval(t1);
      clearInterval(t2);
    }
  });

  it('aborts a stream whose receiver takes nothing but keeps pinging, and tells its sender (relay and play-on)', async () => {
    lab = await startServer({ streamStallMs: 1000, maxUploadBytes: 64 * 1024 * 1024 });
    const receiver = await rawClient(lab.port, 'sleepy');
    receiver.conn.send({ type: 'LISTEN', req: 1, accept: true });
    await receiver.next('OK');
    receiver.conn.on('message', (m) => {
      if (m.type === 'INVITE') {
        receiver.conn.send({ type: 'ACCEPT', streamId: m.streamId });
        receiver.conn.pause(); // takes nothing more from here on
      }
    });
    const ping = setInterval(() => receiver.conn.send({ type: 'PING', t: Date.now() }), 200);
    try {
      const a = await lab.client('a');
      const big = await writeTemp('big.wav', bigWav(40 * 1024 * 1024, 9));
      await expect(a.sendTo('sleepy', big)).rejects.toMatchObject({ code: 'AUDIOLAB_ERR_STALLED' });
      await a.upload(big, 'big.wav');
      receiver.conn.resume();
      await expect(a.playOn('sleepy', 'big.wav')).rejects.toMatchObject({ code: 'AUDIOLAB_ERR_STALLED' });
      expect(await a.list()).toHaveLength(5);
    } finally {
      clearInterval(ping);
    }
  }, 60_000);

  it('shuts down gracefully: every client is told SHUTTING_DOWN, uploads in progress leave nothing', async () => {
    lab = await startServer();
    const a = await lab.client('a');
    const b = await lab.client('b');
    const closes = [once(a, 'close'), once(b, 'close')];
    await lab.server.close(1000);
    for (const c of await Promise.all(closes)) expect((c[0] as AudioLabError).code).toBe('AUDIOLAB_ERR_SHUTTING_DOWN');
    await expect(new AudioLabClient({ port: lab.port }).connect()).rejects.toMatchObject({ code: 'AUDIOLAB_ERR_CONNECTION' });
  });
});
