/**
 * Streaming-system benchmarks (issue: the audio-streaming system), each beside a reference measured
 * in the same run on the same machine:
 * - first audio: play request → first PCM handed to the sink, vs a bare TCP request/response.
 * - transfer: a large song at full speed on loopback, vs iperf3.
 * - relay: per-chunk latency A→server→B and throughput, vs a direct A→B TCP connection.
 * Real-time listeners are the fan-out bench's (fanout.ts), beside Icecast.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { connect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { AudioLabClient } from '../services/client/client.ts';
import { Connection } from '../services/common/connection.ts';
import { SongCache } from '../services/client/cache.ts';
import { playSong } from '../services/client/player.ts';
import { NullSink } from '../services/client/sinks/null.ts';
import { FrameDecoder, encodeDataHeader, type Message, type MessageOf } from '../services/protocol/index.ts';
import { freePort, log, ROOT, startServerProcess, summary, tempDir, writeBigWav, type Row } from './lib.ts';

const execp = promisify(execFile);

async function firstAudio(port: number, runs: number): Promise<number[]> {
  const c = new AudioLabClient({ port, name: 'bench-first' });
  await c.connect();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = await tempDir();
    const r = await playSong(c, 'ode-to-joy.wav', { cache: new SongCache(dir), sink: new NullSink() });
    times.push(r.firstAudioMs);
    await rm(dir, { recursive: true, force: true });
    log(`first audio ${i + 1}/${runs}`);
  }
  await c.close();
  return times;
}

/** Reference: a bare TCP request (8 bytes) answered with 16 KiB; time to the first answer byte. */
async function bareRequest(runs: number): Promise<number[]> {
  const payload = Buffer.alloc(16 * 1024, 1);
  const server = createServer((s) => s.on('data', () => s.write(payload)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const sock = connect({ port, host: '127.0.0.1' });
  sock.setNoDelay(true);
  await once(sock, 'connect');
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    sock.write('request!');
    await once(sock, 'data');
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 2)); // let the rest of the answer drain
    sock.read();
  }
  sock.destroy();
  server.close();
  return times;
}

/** Full-speed transfer of a song, median of 3 after a warm-up run (page cache, JIT). */
async function transfer(port: number, song: string, bytes: number): Promise<number> {
  const c = new AudioLabClient({ port, name: 'bench-xfer' });
  await c.connect();
  const rates: number[] = [];
  for (let k = 0; k < 4; k++) {
    const t0 = performance.now();
    const s = await c.play(song);
    let n = 0;
    for await (const chunk of s) n += (chunk as Buffer).length;
    const secs = (performance.now() - t0) / 1000;
    if (n !== bytes) throw new Error(`transfer got ${n} of ${bytes}`);
    if (k > 0) rates.push((n * 8) / secs / 1e9);
  }
  await c.close();
  return summary(rates).median;
}

async function iperf3(bytes: number): Promise<number | null> {
  const port = await freePort();
  const server = spawn('iperf3', ['-s', '-1', '-p', String(port)], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 500));
    const { stdout } = await execp('iperf3', ['-c', '127.0.0.1', '-p', String(port), '-n', String(bytes), '-J'], { maxBuffer: 64 * 1024 * 1024 });
    const j = JSON.parse(stdout) as { end: { sum_received: { bits_per_second: number } } };
    return j.end.sum_received.bits_per_second / 1e9;
  } catch {
    return null;
  } finally {
    server.kill();
  }
}

/** A raw protocol peer for latency measurements (DATA frames keep their seq, so each chunk can be timed). */
async function rawPeer(port: number, name: string): Promise<{ conn: Connection; next: (type: Message['type']) => Promise<Message> }> {
  const socket = connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  const conn = new Connection(socket);
  const queue: Message[] = [];
  let wake: (() => void) | undefined;
  conn.on('message', (m) => { if (m.type !== 'DATA') { queue.push(m); wake?.(); } });
  const next = async (type: Message['type']): Promise<Message> => {
    for (;;) {
      const i = queue.findIndex((m) => m.type === type || m.type === 'ERROR');
      if (i >= 0) {
        const m = queue.splice(i, 1)[0]!;
        if (m.type === 'ERROR') throw new Error(`${m.code}: ${m.message}`);
        return m;
      }
      await new Promise<void>((r) => { wake = r; });
    }
  };
  conn.send({ type: 'HELLO', versions: [1], name });
  await next('WELCOME');
  return { conn, next };
}

/**
 * Per-chunk latency A→server→B: A sends one 16 KiB DATA frame every `intervalMs` (no queueing),
 * B timestamps each by seq. Same process, same clock. Then the same file at full speed for throughput.
 */
async function relayBench(port: number, chunks: number, chunkSize: number, intervalMs: number): Promise<{ latencies: number[]; gbps: number }> {
  const b = await rawPeer(port, 'bench-b');
  b.conn.send({ type: 'LISTEN', req: 1, accept: true });
  await b.next('OK');
  const a = await rawPeer(port, 'bench-a');
  const data = Buffer.alloc(chunkSize, 0x5a);
  const run = async (paced: boolean): Promise<{ latencies: number[]; secs: number }> => {
    const size = chunks * chunkSize;
    const hash = createHash('sha256');
    for (let i = 0; i < chunks; i++) hash.update(data);
    const sentAt: number[] = [];
    const latencies: number[] = [];
    let arrived = 0;
    const allIn = new Promise<void>((resolve) => {
      const onMsg = (m: Message): void => {
        if (m.type === 'INVITE') b.conn.send({ type: 'ACCEPT', streamId: m.streamId });
        if (m.type === 'DATA') {
          latencies.push(performance.now() - sentAt[m.seq]!);
          if (++arrived === chunks) { b.conn.off('message', onMsg); resolve(); }
        }
      };
      b.conn.on('message', onMsg);
    });
    a.conn.send({ type: 'SEND_TO', req: 1, target: 'bench-b', name: 'bench.wav', size, sha256: hash.digest('hex'), format: { sampleRate: 44100, channels: 2, bitsPerSample: 16, encoding: 'pcm' } });
    const ready = await a.next('READY') as MessageOf<'READY'>;
    const t0 = performance.now();
    for (let i = 0; i < chunks; i++) {
      sentAt[i] = performance.now();
      if (!a.conn.sendData(ready.streamId, i, i * chunkSize, data)) await a.conn.drain();
      if (paced) await new Promise((r) => setTimeout(r, intervalMs));
    }
    a.conn.send({ type: 'STREAM_END', streamId: ready.streamId, bytes: size });
    await allIn;
    const secs = (performance.now() - t0) / 1000;
    await a.next('OK');
    return { latencies, secs };
  };
  const paced = await run(true);
  const full = await run(false);
  a.conn.destroy();
  b.conn.destroy();
  return { latencies: paced.latencies, gbps: (chunks * chunkSize * 8) / full.secs / 1e9 };
}

/** The same over one direct TCP connection carrying the same DATA frames (no server in between). */
async function directBench(chunks: number, chunkSize: number, intervalMs: number): Promise<{ latencies: number[]; gbps: number }> {
  let recv: Socket | undefined;
  const server = createServer((s) => { recv = s; });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = connect({ port: (server.address() as { port: number }).port, host: '127.0.0.1' });
  a.setNoDelay(true);
  await once(a, 'connect');
  while (!recv) await new Promise((r) => setTimeout(r, 1));
  recv.setNoDelay(true);
  const data = Buffer.alloc(chunkSize, 0x5a);
  const run = async (paced: boolean): Promise<{ latencies: number[]; secs: number }> => {
    const sentAt: number[] = [];
    const latencies: number[] = [];
    let got = 0;
    const dec = new FrameDecoder((f) => { latencies.push(performance.now() - sentAt[f.payload.readUInt32BE(4)]!); got++; }, () => {});
    const onData = (c: Buffer): void => dec.push(c);
    recv!.on('data', onData);
    const t0 = performance.now();
    for (let i = 0; i < chunks; i++) {
      sentAt[i] = performance.now();
      a.cork();
      a.write(encodeDataHeader(1, i, i * chunkSize, chunkSize));
      const ok = a.write(data);
      a.uncork();
      if (!ok) await once(a, 'drain');
      if (paced) await new Promise((r) => setTimeout(r, intervalMs));
    }
    while (got < chunks) await new Promise((r) => setTimeout(r, 1));
    recv!.off('data', onData);
    return { latencies, secs: (performance.now() - t0) / 1000 };
  };
  const paced = await run(true);
  const full = await run(false);
  a.destroy();
  server.close();
  return { latencies: paced.latencies, gbps: (chunks * chunkSize * 8) / full.secs / 1e9 };
}

export async function streamingBench(options: { quick?: boolean } = {}): Promise<{ rows: Row[]; notes: string[] }> {
  const quick = options.quick ?? false;
  const musicDir = await tempDir('audiolab-bench-music-');
  await cp(join(ROOT, 'music'), musicDir, { recursive: true, filter: (s) => !s.endsWith('.ts') });
  const bigBytes = quick ? 64 * 1024 * 1024 : 256 * 1024 * 1024;
  await writeBigWav(join(musicDir, 'big.wav'), bigBytes);
  const srv = await startServerProcess(musicDir);
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    const runs = quick ? 50 : 200;
    const ours = summary(await firstAudio(srv.port, runs));
    const ref = summary(await bareRequest(runs));
    rows.push({ bench: 'first audio (loopback)', metric: 'median', ours: ours.median, reference: ref.median, refName: 'bare TCP request→first byte', unit: 'ms' });
    rows.push({ bench: 'first audio (loopback)', metric: 'p99', ours: ours.p99, reference: ref.p99, refName: 'bare TCP request→first byte', unit: 'ms' });

    const gbps = await transfer(srv.port, 'big.wav', bigBytes);
    const ip = await iperf3(bigBytes);
    rows.push({ bench: `full-speed song (${bigBytes / 2 ** 20} MiB)`, metric: 'throughput', ours: gbps, reference: ip, refName: 'iperf3', unit: 'Gbit/s' });

    const chunks = quick ? 1000 : 4000;
    const relay = await relayBench(srv.port, chunks, 16 * 1024, 1);
    const direct = await directBench(chunks, 16 * 1024, 1);
    const rl = summary(relay.latencies);
    const dl = summary(direct.latencies);
    rows.push({ bench: 'relay A→server→B, 16 KiB chunks', metric: 'chunk latency p50', ours: rl.median, reference: dl.median, refName: 'direct A→B TCP', unit: 'ms' });
    rows.push({ bench: 'relay A→server→B, 16 KiB chunks', metric: 'chunk latency p99', ours: rl.p99, reference: dl.p99, refName: 'direct A→B TCP', unit: 'ms' });
    rows.push({ bench: 'relay A→server→B, 16 KiB chunks', metric: 'throughput', ours: relay.gbps, reference: direct.gbps, refName: 'direct A→B TCP', unit: 'Gbit/s' });
  } finally {
    await srv.stop();
  }
  await rm(musicDir, { recursive: true, force: true });
  return { rows, notes };
}
