/** Test helpers: a real server on loopback with a private copy of the music folder. */
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AudioLabServer, type ServerOptions } from '../services/server/server.ts';
import { AudioLabClient, type ClientOptions } from '../services/client/client.ts';
import { createLogger } from '../services/common/log.ts';
import { Connection } from '../services/common/connection.ts';
import type { Message, MessageOf } from '../services/protocol/index.ts';
import { connect } from 'node:net';
import { once } from 'node:events';
import { buildWavHeader } from '../services/common/wav.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const MUSIC = join(ROOT, 'music');

export async function tempDir(prefix = 'audiolab-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export interface TestLab {
  server: AudioLabServer;
  port: number;
  musicDir: string;
  client(name: string, options?: ClientOptions): Promise<AudioLabClient>;
  close(): Promise<void>;
}

export async function startServer(options: Partial<ServerOptions> = {}): Promise<TestLab> {
  const musicDir = options.musicDir ?? await tempDir('audiolab-music-');
  if (!options.musicDir) {
    for (const f of await readdir(MUSIC)) if (f.endsWith('.wav')) await cp(join(MUSIC, f), join(musicDir, f));
  }
  const server = new AudioLabServer({ port: 0, host: '127.0.0.1', logger: createLogger({ level: 'silent' }), ...options, musicDir });
  const { port } = await server.listen();
  const clients: AudioLabClient[] = [];
  return {
    server, port, musicDir,
    async client(name, opts = {}) {
      const c = new AudioLabClient({ port, name, ...opts });
      clients.push(c);
      await c.connect();
      return c;
    },
    async close() {
      for (const c of clients) if (c.connected) c.connection.destroy();
      await server.close(500);
      await rm(musicDir, { recursive: true, force: true });
    },
  };
}

/** A valid WAV of about `bytes` bytes with pseudo-random (seeded) 16-bit stereo samples. */
export function bigWav(bytes: number, seed = 1): Buffer {
  const data = Math.floor((bytes - 44) / 4) * 4;
  const pcm = Buffer.allocUnsafe(data);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < data; i += 4) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    pcm.writeUInt32LE(x, i);
  }
  return Buffer.concat([buildWavHeader({ sampleRate: 44100, channels: 2, bitsPerSample: 16, encoding: 'pcm' }, data), pcm]);
}

export async function writeTemp(name: string, content: Buffer): Promise<string> {
  const dir = await tempDir();
  const p = join(dir, name);
  await writeFile(p, content);
  return p;
}

export async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `cond` is true or `ms` pass; returns whether it became true. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000, every = 20): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(every);
  }
  return cond();
}

/** A protocol-level client for hostile and malformed behaviour: sends what it is told, records what it gets. */
export interface RawClient {
  conn: Connection;
  messages: Message[];
  next<T extends Message['type']>(type: T, ms?: number): Promise<MessageOf<T>>;
  closed: Promise<unknown>;
}

export async function rawClient(port: number, hello: string | false = 'raw'): Promise<RawClient> {
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const conn = new Connection(socket);
  const messages: Message[] = [];
  const waiters: Array<() => void> = [];
  conn.on('message', (m) => { messages.push(m); for (const w of waiters.splice(0)) w(); });
  const closed = once(conn, 'close');
  let cursor = 0;
  const raw: RawClient = {
    conn, messages, closed,
    async next(type, ms = 5000) {
      const end = Date.now() + ms;
      for (;;) {
        while (cursor < messages.length) {
          const m = messages[cursor++]!;
          if (m.type === type) return m as never;
        }
        if (Date.now() > end) throw new Error(`no ${type} within ${ms} ms; got ${messages.map((m) => m.type).join(', ')}`);
        await Promise.race([new Promise<void>((r) => waiters.push(r)), new Promise((r) => setTimeout(r, 50))]);
      }
    },
  };
  if (hello !== false) {
    conn.send({ type: 'HELLO', versions: [1], name: hello });
    await raw.next('WELCOME');
  }
  return raw;
}
