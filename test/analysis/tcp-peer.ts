#!/usr/bin/env node
/**
 * A tiny TCP peer for making captures with real kernel TCP (run inside network namespaces).
 *   serve PORT [--pause-after BYTES --pause-ms MS] [--rcvbuf BYTES]   receive and discard; optionally stop reading for a while (zero window)
 *   send HOST PORT BYTES [--chunk N] [--keepalive-ms MS]             send BYTES then close
 * Prints "listening" when the server is ready.
 */
import { createServer, connect } from 'node:net';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    'pause-after': { type: 'string' }, 'pause-ms': { type: 'string' }, chunk: { type: 'string' }, 'keepalive-ms': { type: 'string' }, once: { type: 'boolean' },
  },
});
const [mode, ...rest] = positionals;
if (mode === 'serve') {
  const port = Number(rest[0]);
  const pauseAfter = Number(values['pause-after'] ?? -1);
  const pauseMs = Number(values['pause-ms'] ?? 0);
  const server = createServer((s) => {
    let got = 0;
    let paused = false;
    s.on('data', (c: Buffer) => {
      got += c.length;
      if (pauseAfter >= 0 && !paused && got >= pauseAfter) {
        paused = true;
        s.pause();
        setTimeout(() => s.resume(), pauseMs);
      }
    });
    s.on('end', () => { s.end(); if (values.once) server.close(); });
    s.on('error', () => {});
  });
  server.listen(port, () => console.log('listening'));
} else if (mode === 'send') {
  const [host, port, bytes] = [rest[0]!, Number(rest[1]), Number(rest[2])];
  const chunk = Number(values.chunk ?? 65536);
  const s = connect({ host, port }, async () => {
    if (values['keepalive-ms']) s.setKeepAlive(true, Number(values['keepalive-ms']));
    let sent = 0;
    const buf = Buffer.alloc(chunk, 0x61);
    while (sent < bytes) {
      const n = Math.min(chunk, bytes - sent);
      if (!s.write(buf.subarray(0, n))) await new Promise((r) => s.once('drain', r));
      sent += n;
    }
    s.end();
  });
  s.on('close', () => process.exit(0));
  s.on('error', (e) => { console.error(e.message); process.exit(1); });
} else {
  console.error('usage: tcp-peer.ts serve PORT | send HOST PORT BYTES');
  process.exit(2);
}
