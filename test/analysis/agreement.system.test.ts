/**
 * Agreement with tshark (Debian's tshark 4.x is the oracle) on captures of real kernel TCP made in
 * network namespaces: for every frame, every tcp.analysis flag; for every connection and
 * direction, packets, payload bytes, initial RTT and MSS. On failure the test lists what differs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { captureTransfer, makePair, peer, startCapture } from './netns.ts';
import { causeDifferences, connectionDifferences, flagDifferences, tsharkFlagFrames } from './oracle.ts';
import { loadPackets, writePcap, type Pkt } from './capwriter.ts';
import { tempDir } from '../helpers.ts';
import { analyze } from '../../analysis/analyze.ts';
import { FLAG_NAMES, type FlagName } from '../../analysis/tcp/flags.ts';
import { once } from 'node:events';

let dir: string;
const files: Record<string, string> = {};

async function capture(name: string, opts: Parameters<typeof makePair>[0], bytes: number, serve: string[] = [], send: string[] = []): Promise<void> {
  const pair = makePair(opts);
  try {
    files[name] = join(dir, `${name}.pcap`);
    await captureTransfer(pair, files[name], bytes, serve, send);
  } finally {
    pair.destroy();
  }
}

beforeAll(async () => {
  dir = await tempDir('audiolab-caps-');
  await capture('clean', {}, 2_000_000);
  await capture('lossy', { lossEveryNth: 25 }, 3_000_000);
  await capture('zero-window', {}, 6_000_000, ['--pause-after', '100000', '--pause-ms', '2500']);
  await capture('rate-limited', { rateKbit: 20000, delayMs: 20 }, 1_500_000);
  await capture('lossy-rate-limited', { lossEveryNth: 30, rateKbit: 30000 }, 1_500_000);
  await capture('ipv6', { ipv6: true, lossEveryNth: 40 }, 1_500_000);
  await capture('offloads-on', { offloads: true }, 2_000_000);
  // tcpdump -i any (Linux cooked v2) with two connections, one after the other
  {
    const pair = makePair({ lossEveryNth: 50 });
    try {
      files.any = join(dir, 'any.pcap');
      const cap = await startCapture(pair.b, 'any', files.any);
      for (const port of [7001, 7002]) {
        const server = peer(pair.b, ['serve', String(port), '--once']);
        await new Promise<void>((r) => server.stdout!.on('data', (c: Buffer) => { if (c.toString().includes('listening')) r(); }));
        const client = peer(pair.a, ['send', pair.ipB, String(port), '800000']);
        await once(client, 'exit');
        server.kill();
      }
      await cap.stop();
    } finally {
      pair.destroy();
    }
  }
  // reordering and duplication, as rewritten captures
  const pkts = loadPackets(files.clean!);
  const data = pkts.map((p, i) => ({ p, i })).filter(({ p }) => p.data.length > 1000);
  const reordered: Pkt[] = [...pkts];
  for (const k of [10, 40, 70]) {
    const i = data[k]!.i;
    const a = reordered[i]!;
    const b = reordered[i + 1]!;
    reordered[i] = { ...b, sec: a.sec, nsec: a.nsec };
    reordered[i + 1] = { ...a, sec: b.sec, nsec: b.nsec };
  }
  files.reordered = join(dir, 'reordered.pcap');
  await writeFile(files.reordered, writePcap(reordered));
  // the same swaps with the timestamps going backwards, as a capture on a multi-core machine can
  // record them (Wireshark takes time differences as unsigned: a negative one is never "soon")
  const backwards: Pkt[] = [...pkts];
  for (const k of [10, 40, 70]) {
    const i = data[k]!.i;
    [backwards[i], backwards[i + 1]] = [backwards[i + 1]!, backwards[i]!];
  }
  files['time-backwards'] = join(dir, 'time-backwards.pcap');
  await writeFile(files['time-backwards'], writePcap(backwards));
  const duplicated: Pkt[] = [];
  pkts.forEach((p, i) => {
    duplicated.push(p);
    if (i === data[20]!.i || i === data[50]!.i) duplicated.push({ ...p, nsec: p.nsec + 5000 });
  });
  files.duplicated = join(dir, 'duplicated.pcap');
  await writeFile(files.duplicated, writePcap(duplicated));
  // a capture that starts in the middle of the connection (no handshake)
  const lossy = loadPackets(files.lossy!);
  files['mid-stream'] = join(dir, 'mid-stream.pcap');
  await writeFile(files['mid-stream'], writePcap(lossy.slice(Math.floor(lossy.length / 3))));
  // port reuse: the same connection again 10 s later (same ports, after a FIN)
  files['port-reuse'] = join(dir, 'port-reuse.pcap');
  const again = pkts.map((p) => {
    // same ports, a new ISN: shift the client's sequence numbers and the server's ACKs
    const data = Buffer.from(p.data);
    const fromClient = data.readUInt16BE(34) !== 7000;
    const off = fromClient ? 38 : 42;
    if (fromClient || data[47]! & 0x10) data.writeUInt32BE((data.readUInt32BE(off) + 1_000_000) >>> 0, off);
    return { ...p, data, sec: p.sec + 10 };
  });
  await writeFile(files['port-reuse'], writePcap([...pkts, ...again]));
  // a zero-window probe as Wireshark knows it (one byte at the next sequence number while the
  // receiver's window is 0): Linux probes with a keep-alive (seq - 1, no data), so the first
  // keep-alive of the zero-window capture is rewritten into one
  const zw = loadPackets(files['zero-window']!);
  const keepAlive = Math.min(...tsharkFlagFrames(files['zero-window']!).keepAlive);
  files['zero-window-probe'] = join(dir, 'zero-window-probe.pcap');
  await writeFile(files['zero-window-probe'], writePcap(zw.map((p, i) => (i === keepAlive - 1 ? asZeroWindowProbe(p) : p))));
}, 180_000);

/** An Ethernet/IPv4 keep-alive (seq = next - 1, no payload) turned into a 1-byte segment at seq = next. */
function asZeroWindowProbe(p: Pkt): Pkt {
  const ip = 14;
  const ihl = (p.data[ip]! & 0x0f) * 4;
  const tcp = ip + ihl;
  const doff = (p.data[tcp + 12]! >> 4) * 4;
  const data = Buffer.concat([p.data.subarray(0, tcp + doff), Buffer.from([0x61])]);
  data.writeUInt16BE(data.readUInt16BE(ip + 2) + 1, ip + 2);
  data.writeUInt32BE((data.readUInt32BE(tcp + 4) + 1) >>> 0, tcp + 4);
  return { ...p, data, origlen: data.length };
}

afterAll(() => {
  // captures stay in the temp folder for inspection
});

describe('agreement with tshark', () => {
  const CORPUS = ['clean', 'lossy', 'zero-window', 'zero-window-probe', 'rate-limited', 'lossy-rate-limited', 'ipv6', 'any', 'reordered', 'time-backwards', 'duplicated', 'mid-stream', 'port-reuse'];
  for (const name of CORPUS) {
    it(`${name}: every frame's analysis flags equal tshark's`, () => {
      expect(flagDifferences(files[name]!)).toEqual([]);
    });
    it(`${name}: packets, payload bytes, initial RTT and MSS per connection and direction equal tshark's`, () => {
      expect(connectionDifferences(files[name]!)).toEqual([]);
    });
    it(`${name}: the causes of the retransmissions add up to tshark's counts (fast, spurious, all)`, () => {
      expect(causeDifferences(files[name]!)).toEqual([]);
    });
  }

  it('the corpus exercises every one of the flags, so no flag can agree at 0 = 0', () => {
    const seen = Object.fromEntries(FLAG_NAMES.map((n) => [n, 0])) as Record<FlagName, number>;
    for (const name of CORPUS) {
      const frames = tsharkFlagFrames(files[name]!);
      for (const n of FLAG_NAMES) seen[n] += frames[n].size;
    }
    expect(FLAG_NAMES.filter((n) => seen[n] === 0)).toEqual([]);
    expect(FLAG_NAMES).toHaveLength(12);
  });

  it('the impaired captures really exercise the flags (the comparison is not vacuous)', () => {
    const lossy = tsharkFlagFrames(files.lossy!);
    expect(lossy.retransmission.size).toBeGreaterThan(0);
    expect(lossy.dupAck.size).toBeGreaterThan(0);
    const zw = tsharkFlagFrames(files['zero-window']!);
    expect(zw.zeroWindow.size).toBeGreaterThan(0);
    expect(zw.windowUpdate.size).toBeGreaterThan(0);
    expect(tsharkFlagFrames(files.reordered!).outOfOrder.size).toBeGreaterThan(0);
    expect(tsharkFlagFrames(files['time-backwards']!).retransmission.size).toBeGreaterThan(0);
    const dup = tsharkFlagFrames(files.duplicated!);
    expect(dup.retransmission.size + dup.spuriousRetransmission.size).toBeGreaterThan(0);
    const any = analyze(files.any!);
    expect(any.capture.linktypes).toEqual([276]);
    expect(any.connections).toHaveLength(2);
  });

  it('flags segments above the MSS as capture offload artefacts when TSO/GSO are left on', () => {
    const on = analyze(files['offloads-on']!).connections[0]!;
    expect(on.clientToServer.segmentSize.max).toBeGreaterThan(on.handshake.negotiated.mss!);
    expect(on.clientToServer.aboveMss).toBeGreaterThan(0);
    const off = analyze(files.clean!).connections[0]!;
    expect(off.clientToServer.aboveMss).toBe(0);
  });

  it('follows IPv6, a connection seen mid-way (roles guessed from ports) and a reused port pair', () => {
    const v6 = analyze(files.ipv6!).connections[0]!;
    expect(v6.client.ip).toMatch(/^2001:db8:18:/);
    expect(v6.clientToServer.flags.retransmission).toBeGreaterThan(0);
    const mid = analyze(files['mid-stream']!).connections[0]!;
    expect(mid.rolesFrom).toBe('port-guess');
    expect(mid.handshake.complete).toBe(false);
    expect(mid.server.port).toBe(7000);
    const reuse = analyze(files['port-reuse']!).connections;
    expect(reuse).toHaveLength(2);
    expect(reuse[0]!.client).toEqual(reuse[1]!.client);
    expect(reuse[1]!.handshake.complete).toBe(true);
  });

  it('reports what a lossy transfer looks like: retransmissions, RTT samples, handshake and teardown', () => {
    const r = analyze(files.lossy!);
    expect(r.connections).toHaveLength(1);
    const c = r.connections[0]!;
    expect(c.handshake.complete).toBe(true);
    expect(c.state).toBe('SF');
    expect(c.history).toMatch(/^S.*h.*A/); // client SYN, server SYN-ACK, client ACK
    expect(c.handshake.synAttempts).toBeGreaterThanOrEqual(1);
    expect(c.clientToServer.flags.retransmission).toBeGreaterThan(0);
    expect(c.clientToServer.rtt.samples).toBeGreaterThan(10);
    expect(c.handshake.negotiated.mss).toBe(1460);
    expect(c.clientToServer.segmentSize.max).toBeLessThanOrEqual(1460);
    expect(c.clientToServer.aboveMss).toBe(0);
    expect(c.teardown.firstFin).toBe('client');
  });
});
