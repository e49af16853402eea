/**
 * The server under hostile load, in its own process as a user runs it: real-time listeners keep
 * playing, with no underrun and no refusal, while a few hundred hostile connections hit it (idle,
 * slowloris, a huge length header then silence, garbage, non-readers flooding LIST). Its memory
 * stays under a stated bound, the hostile connections are closed by their budgets, and afterwards
 * it serves new clients.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bigWav, MUSIC, ROOT, tempDir, waitFor } from '../helpers.ts';
import { AudioLabClient } from '../../services/client/client.ts';
import { SongCache } from '../../services/client/cache.ts';
import { playSong } from '../../services/client/player.ts';
import { NullSink } from '../../services/client/sinks/null.ts';
import { encodeHeader, encodeToBuffer } from '../../services/protocol/index.ts';
import { cp } from 'node:fs/promises';

/** The bound this test states for the server's resident memory under the whole attack. */
const RSS_BOUND_MIB = 256;
const LISTENERS = 4;
const SONG_SECONDS = 15;

const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

let server: ChildProcess | undefined;
const sockets: Socket[] = [];
afterAll(() => {
  for (const s of sockets) s.destroy();
  server?.kill('SIGKILL');
});

async function open(port: number): Promise<Socket> {
  const s = connect({ port, host: '127.0.0.1' });
  s.on('error', () => {});
  await once(s, 'connect');
  sockets.push(s);
  return s;
}

describe('hostile load', () => {
  it('real-time listeners play on while hundreds of hostile connections hit the server; its memory stays bounded', async () => {
    const music = await tempDir('audiolab-music-');
    await cp(MUSIC, music, { recursive: true, filter: (f) => !f.endsWith('.ts') });
    await writeFile(join(music, 'long.wav'), bigWav(44 + 176_400 * SONG_SECONDS, 5));
    const port = 5200 + (process.pid % 500);
    server = spawn(process.execPath, [join(ROOT, 'bin/audiolab.mjs'), 'server', '--host', '127.0.0.1', '--port', String(port), '--music', music,
      '--max-clients', '1000', '--hello-timeout', '3', '--idle-timeout', '6', '--max-queued', '4', '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    server.stderr!.on('data', (c: Buffer) => { log += c.toString(); });
    expect(await waitFor(() => log.includes('server.listen'), 20_000)).toBe(true);
    const pid = server.pid!;

    // the listeners start first, and play at the song's pace
    const cacheDir = await tempDir('audiolab-cache-');
    const listeners = await Promise.all(Array.from({ length: LISTENERS }, async (_, i) => {
      const c = new AudioLabClient({ port, name: `listener-${i}` });
      await c.connect();
      return c;
    }));
    const plays = listeners.map((c, i) => playSong(c, 'long.wav', { cache: new SongCache(join(cacheDir, String(i))), sink: new NullSink({ realtime: true }) }));

    // then the attack: 100 idle, 100 slowloris, 50 huge headers, 50 garbage, 10 non-readers flooding LIST
    const hello = encodeToBuffer({ type: 'HELLO', versions: [1], name: 'x' });
    const slow: Socket[] = [];
    for (let i = 0; i < 100; i++) await open(port);
    for (let i = 0; i < 100; i++) slow.push(await open(port));
    for (let i = 0; i < 50; i++) (await open(port)).write(encodeHeader(0x22, 1024 * 1024));
    for (let i = 0; i < 50; i++) (await open(port)).write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const list = Buffer.concat(Array.from({ length: 1000 }, () => encodeToBuffer({ type: 'LIST', req: 1 })));
    const floods: Socket[] = [];
    for (let i = 0; i < 10; i++) {
      const s = await open(port);
      s.pause();
      s.write(hello);
      floods.push(s);
    }
    let peak = rssMiB(pid);
    let n = 0;
    const attack = setInterval(() => {
      n++;
      for (const s of slow) if (!s.destroyed) s.write(hello.subarray(n % hello.length, (n % hello.length) + 1));
      for (const s of floods) if (!s.destroyed) s.write(list);
      peak = Math.max(peak, rssMiB(pid));
    }, 250);

    try {
      const results = await Promise.all(plays);
      for (const r of results) {
        expect(r.underruns).toEqual([]);
        expect(r.downloadedBytes).toBe(r.song.size);
      }
      // the server closed every hostile connection by its budget (HELLO deadline, output budget, garbage)
      const closed = (): number => log.split('\n').filter((l) => l.includes('"event":"conn.close"')).length;
      expect(await waitFor(() => closed() >= sockets.length, 20_000)).toBe(true);
    } finally {
      clearInterval(attack);
    }
    console.log(`hostile load: server RSS peak ${peak.toFixed(0)} MiB (bound ${RSS_BOUND_MIB})`);
    expect(peak).toBeLessThan(RSS_BOUND_MIB);
    // and it serves a newcomer
    const fresh = new AudioLabClient({ port, name: 'after' });
    await fresh.connect();
    expect(await fresh.list()).toHaveLength(5);
    await fresh.close();
    for (const c of listeners) await c.close();
  }, 120_000);
});
