/**
 * The fan-out bench's listener generator (bench/fanout-gen.c, built with gcc) judges servers, so
 * it is tested against servers whose pace is known: one that keeps ahead of real time (no listener
 * stalls, each reads at the song's pace, not faster), one at half of it (every listener stalls),
 * one that closes a connection (dropped).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../helpers.ts';
import { buildGenerator, type GenResult } from '../../bench/fanout.ts';

const RATE = 176_400;
let server: Server | undefined;
const sockets = new Set<Socket>();
afterEach(() => {
  for (const s of sockets) s.destroy();
  server?.close();
});

/** A server that answers each connection's preamble with bytes at `bytesPerSecond`; `closeFirst` closes the first connection after a second. */
async function pacedServer(bytesPerSecond: number, closeFirst = false): Promise<number> {
  let n = 0;
  server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    const first = n++ === 0;
    s.once('data', () => {
      const t0 = performance.now();
      let sent = 0;
      const timer = setInterval(() => {
        if (s.destroyed) return clearInterval(timer);
        if (closeFirst && first && performance.now() - t0 > 1000) { clearInterval(timer); s.destroy(); return; }
        // keep what waits in the process small: this server's pace is what the generator sees
        const due = Math.floor(((performance.now() - t0) / 1000) * bytesPerSecond);
        if (due > sent && s.writableLength < 65536) { s.write(Buffer.alloc(due - sent)); sent = due; }
      }, 10);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

async function generate(port: number, n: number): Promise<GenResult> {
  const dir = await tempDir('audiolab-gen-');
  const gen = await buildGenerator(dir);
  await writeFile(join(dir, 'preamble'), 'GET / HTTP/1.0\r\n\r\n');
  const { stdout } = await promisify(execFile)(gen, ['127.0.0.1', String(port), String(n), '300', '1500', '3000', join(dir, 'preamble')]);
  return JSON.parse(stdout) as GenResult;
}

describe('fan-out generator', () => {
  it('reads at real time from a server that keeps ahead: no listener stalls or drops', async () => {
    const g = await generate(await pacedServer(RATE * 3), 5);
    expect(g).toMatchObject({ n: 5, open: 5, dropped: 0, stalled: 0 });
    // paced by its play-out buffer: about the song's rate, never the server's three times it
    expect(g.medianRatio).toBeGreaterThan(0.9);
    expect(g.medianRatio).toBeLessThan(1.2);
  });

  it('finds every listener of a server at half of real time stalled', async () => {
    const g = await generate(await pacedServer(RATE / 2), 5);
    expect(g).toMatchObject({ open: 5, dropped: 0, stalled: 5 });
    expect(g.medianRatio).toBeLessThan(0.7);
    expect(g.underran).toBe(5);
  });

  it('counts a connection the server closes as dropped', async () => {
    const g = await generate(await pacedServer(RATE * 3, true), 3);
    expect(g).toMatchObject({ open: 2, dropped: 1, stalled: 0 });
  });
});
