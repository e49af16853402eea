/**
 * A bench worker process: connects N clients and plays a song on each at real-time pace (null sink),
 * straight from the stream (no cache), then prints {underruns, failed} as JSON.
 * Usage: node bench/listener-worker.ts PORT N SONG
 */
import { AudioLabClient } from '../services/client/client.ts';
import { playIncoming } from '../services/client/player.ts';
import { NullSink } from '../services/client/sinks/null.ts';

const [port, n, song] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4] ?? 'ode-to-joy.wav'];
const clients = await Promise.all(Array.from({ length: n }, async (_, i) => {
  const c = new AudioLabClient({ port, name: `l${process.pid}-${i}`, pingIntervalMs: 0 });
  await c.connect();
  return c;
}));
process.stdout.write('ready\n');
await new Promise<void>((r) => process.stdin.once('data', () => r()));
const results = await Promise.allSettled(clients.map(async (c) => {
  const sink = new NullSink({ realtime: true });
  await playIncoming(await c.play(song), sink);
  return sink.stats().underruns.length;
}));
for (const c of clients) await c.close().catch(() => {});
const underruns = results.reduce((s, r) => s + (r.status === 'fulfilled' ? r.value : 0), 0);
const failed = results.filter((r) => r.status === 'rejected').length;
process.stdout.write(JSON.stringify({ underruns, failed }) + "\n");
process.exit(0);
