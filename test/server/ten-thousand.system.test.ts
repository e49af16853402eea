/**
 * `audiolab server --max-clients 10000`, in its own process as a user runs it, holds ten thousand
 * clients: each is welcomed, the last one learns how many are online and gets the whole list on
 * request (WHO, in pages), the next is refused SERVER_FULL, and a join storm costs an early client
 * a few small frames rather than a delta per join. Its memory stays under a stated bound, and a
 * the waves of ten thousand that follow reuse what the first ones took.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { MUSIC } from '../helpers.ts';
import { killAll, serverProc } from '../cli/processes.ts';
import { AudioLabClient } from '../../services/client/client.ts';

const N = 10_000;
/** The bound this test states for the server's resident memory with N clients online: 100 MiB and 64 KiB a client. */
const RSS_BOUND_MIB = 100 + (N * 64) / 1024;
const WAVES = 6;
/** How much the last wave of N may add to the one before: V8 grows its heap over the first waves, then reuses it. */
const WAVE_GROWTH = 1.1;

const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

afterAll(killAll);

/** Resolves once the server counts no one online (the last wave's closes all handled). */
async function empty(port: number): Promise<void> {
  await expect.poll(async () => {
    const probe = new AudioLabClient({ port, name: 'probe', pingIntervalMs: 0 });
    await probe.connect().catch(() => undefined);
    const n = probe.onlineCount;
    await probe.close();
    return n;
  }, { timeout: 30_000, interval: 200 }).toBe(1);
}

async function wave(port: number, round: number): Promise<AudioLabClient[]> {
  const clients: AudioLabClient[] = [];
  for (let i = 0; i < N; i += 250) {
    clients.push(...await Promise.all(Array.from({ length: Math.min(250, N - i) }, async (_, k) => {
      const c = new AudioLabClient({ port, name: `student-${round}-${String(i + k).padStart(5, '0')}`, pingIntervalMs: 0 });
      await c.connect();
      return c;
    })));
  }
  return clients;
}

describe('ten thousand clients', () => {
  it('holds --max-clients 10000: all welcomed, the list whole on request, the next refused, memory bounded and reused', async () => {
    const { proc, address } = await serverProc(MUSIC, ['--max-clients', String(N)]);
    const port = Number(address.split(':')[1]);
    const pid = proc.child.pid!;

    const clients = await wave(port, 1);
    const first = clients[0]!;
    const last = clients.at(-1)!;
    // the last one's WELCOME: the count, itself and a first page, not ten thousand entries
    expect(last.onlineCount).toBe(N);
    expect(last.listComplete).toBe(false);
    expect(last.clients.length).toBeLessThanOrEqual(100);
    const everyone = await last.who();
    expect(new Set(everyone.map((c) => c.name)).size).toBe(N);
    // the join storm reached the first client as a few counts, not 9 999 deltas of ~100 bytes
    expect(first.connection.socket.bytesRead).toBeLessThan(100 * 1024);
    expect(await first.list()).not.toHaveLength(0);

    const extra = new AudioLabClient({ port, name: 'extra', pingIntervalMs: 0 });
    await expect(extra.connect()).rejects.toMatchObject({ code: 'AUDIOLAB_ERR_SERVER_FULL' });

    const peak = rssMiB(pid);
    expect(peak).toBeLessThan(RSS_BOUND_MIB);

    // one leaves: the others' count follows
    await clients.pop()!.close();
    await expect.poll(() => first.onlineCount, { timeout: 10_000 }).toBe(N - 1);

    for (const c of clients) c.connection.socket.destroy();
    const peaks = [peak];
    for (let round = 2; round <= WAVES; round++) {
      await empty(port);
      const again = await wave(port, round);
      expect(again.at(-1)!.onlineCount).toBe(N);
      peaks.push(rssMiB(pid));
      for (const c of again) c.connection.socket.destroy();
    }
    console.log(`server RSS with ${N} clients online, wave by wave: ${peaks.map((p) => p.toFixed(0)).join(', ')} MiB (bound ${RSS_BOUND_MIB.toFixed(0)})`);
    // what the first waves took is reused: no wave passes the bound, and the last adds little to the one before
    expect(Math.max(...peaks)).toBeLessThan(RSS_BOUND_MIB);
    expect(peaks[WAVES - 1]!).toBeLessThan(peaks[WAVES - 2]! * WAVE_GROWTH);
  }, 180_000);
});
