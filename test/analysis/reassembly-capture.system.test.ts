/** Payload reassembly on a real lossy capture (network namespaces, iptables loss, tcpdump). */
import { describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StreamReassembler } from '../../analysis/tcp/reassembly.ts';
import { analyze } from '../../analysis/analyze.ts';
import { captureTransfer, makePair } from './netns.ts';
import { loadPackets, writePcap } from './capwriter.ts';
import { tempDir } from '../helpers.ts';

describe('stream reassembly on a real capture', () => {
  it('rebuilds every byte of a real lossy transfer exactly once, and marks segments a capture lacks', async () => {
    const dir = await tempDir();
    const file = join(dir, 'lossy.pcap');
    const pair = makePair({ lossEveryNth: 30 });
    try {
      await captureTransfer(pair, file, 1_000_000);
    } finally {
      pair.destroy();
    }
    const run = (f: string): { total: number; allA: boolean; gaps: number; gapBytes: number } => {
      let total = 0;
      let allA = true;
      let gaps = 0;
      let gapBytes = 0;
      const rs = new Map<number, StreamReassembler>();
      analyze(f, {
        onPayload: (conn, fromClient, seq, data, time, frame) => {
          if (!fromClient) return;
          let r = rs.get(conn.index);
          if (!r) {
            r = new StreamReassembler({ data: (b) => { total += b.length; if (b.some((x) => x !== 0x61)) allA = false; }, gap: (_o, l) => { gaps++; gapBytes += l; } });
            r.start((conn.c2s.flow.baseSeq + 1) >>> 0);
            rs.set(conn.index, r);
          }
          r.push(seq, data, time, frame);
        },
      });
      for (const r of rs.values()) r.finish(0);
      return { total, allA, gaps, gapBytes };
    };
    const whole = run(file);
    expect(whole).toEqual({ total: 1_000_000, allA: true, gaps: 0, gapBytes: 0 });
    // remove two data segments (and every later copy of them) from the capture: two gaps of their size
    const pkts = loadPackets(file);
    const data = pkts.filter((p) => p.data.length > 1000);
    const victims = new Set([data[30]!, data[60]!].map((p) => p.data.readUInt32BE(14 + 20 + 4)));
    const kept = pkts.filter((p) => !(p.data.length > 1000 && victims.has(p.data.readUInt32BE(14 + 20 + 4))));
    const holed = join(dir, 'holed.pcap');
    await writeFile(holed, writePcap(kept));
    const h = run(holed);
    expect(h.gaps).toBe(2);
    expect(h.total + h.gapBytes).toBe(1_000_000);
  });
});
