/**
 * The capture reader: every layout (pcap µs/ns in both byte orders, pcapng with several sections and
 * interfaces, tsresol, EPB/SPB/OPB, unknown blocks) and link type gives the same analysis; pcap-parser
 * and tshark are independent oracles; bad files give coded errors with offsets and never hang.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { captureTransfer, makePair } from './netns.ts';
import { loadPackets, relink, writePcap, writePcapng, type Pkt } from './capwriter.ts';
import { flagDifferences } from './oracle.ts';
import { tempDir } from '../helpers.ts';
import { readCapture } from '../../analysis/capture/reader.ts';
import { analyze } from '../../analysis/analyze.ts';

let dir: string;
let base: string;
let pkts: Pkt[];

beforeAll(async () => {
  dir = await tempDir('audiolab-reader-');
  base = join(dir, 'base.pcap');
  const pair = makePair({ lossEveryNth: 40 });
  try {
    await captureTransfer(pair, base, 600_000);
  } finally {
    pair.destroy();
  }
  pkts = loadPackets(base);
}, 60_000);

/** The parts of an analysis that must not depend on the file layout. */
const essence = (file: string): unknown => analyze(file).connections.map((c) => ({
  client: c.client, server: c.server, state: c.state, history: c.history, irtt: Math.round((c.handshake.initialRttMs ?? -1) * 100) / 100, // 2^-20 s ticks move it by < 1 µs
  c2s: [c.clientToServer.packets, c.clientToServer.payloadBytes, c.clientToServer.flags],
  s2c: [c.serverToClient.packets, c.serverToClient.payloadBytes, c.serverToClient.flags],
}));

const tsharkCount = (file: string): number => Number(execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').length);

describe('capture formats', () => {
  it('reads tcpdump\'s pcap exactly as pcap-parser does (timestamps, lengths, bytes)', async () => {
    const pcapParser = createRequire(import.meta.url)('pcap-parser') as { parse: (f: string) => NodeJS.EventEmitter };
    const theirs: Array<{ s: number; us: number; cap: number; orig: number; data: string }> = [];
    await new Promise<void>((resolve, reject) => {
      const p = pcapParser.parse(base);
      p.on('packet', (pk: { header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number }; data: Buffer }) =>
        theirs.push({ s: pk.header.timestampSeconds, us: pk.header.timestampMicroseconds, cap: pk.header.capturedLength, orig: pk.header.originalLength, data: pk.data.toString('hex') }));
      p.on('end', () => resolve());
      p.on('error', reject);
    });
    const ours: typeof theirs = [];
    readCapture(base, (p) => ours.push({ s: p.sec, us: p.nsec / 1000, cap: p.caplen, orig: p.origlen, data: p.data.toString('hex') }));
    expect(ours.length).toBeGreaterThan(100);
    expect(ours).toEqual(theirs);
  });

  const layouts: Array<[string, () => Buffer]> = [
    ['pcap, nanosecond, little-endian', () => writePcap(pkts, { ns: true })],
    ['pcap, microsecond, big-endian', () => writePcap(pkts, { be: true })],
    ['pcap, nanosecond, big-endian', () => writePcap(pkts, { ns: true, be: true })],
    ['pcapng, little-endian', () => writePcapng(pkts)],
    ['pcapng, big-endian', () => writePcapng(pkts, { be: true })],
    ['pcapng, nanosecond if_tsresol, 3 interfaces, new section every 50 packets', () => writePcapng(pkts, { tsresol: 9, interfaces: 3, sectionEvery: 50 })],
    ['pcapng, 2^-20 s resolution, OPB blocks and unknown blocks, big-endian', () => writePcapng(pkts, { tsresol: 0x80 | 20, opbEvery: 3, unknownEvery: 7, be: true })],
  ];
  for (const [name, make] of layouts) {
    it(`${name}: same analysis as the original, same packet count as tshark`, async () => {
      const file = join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.cap`);
      await writeFile(file, make());
      if (name.includes('2^-20')) {
        // 2^-20 s ticks move timestamps by up to 1 µs, which may flip a timing rule at its boundary:
        // the same packets and bytes as the original, and the flags tshark finds in this very file
        const strip = (e: unknown): unknown => (e as Array<Record<string, unknown[]>>).map((c) => ({ ...c, irtt: 0, c2s: c.c2s!.slice(0, 2), s2c: c.s2c!.slice(0, 2) }));
        expect(strip(essence(file))).toEqual(strip(essence(base)));
        expect(flagDifferences(file)).toEqual([]);
      } else {
        expect(essence(file)).toEqual(essence(base));
      }
      expect(analyze(file).capture.packets).toBe(tsharkCount(file));
    });
  }

  it('pcapng simple packet blocks (no timestamps) are read', async () => {
    const file = join(dir, 'spb.pcapng');
    await writeFile(file, writePcapng(pkts, { spbEvery: 1 }));
    const r = analyze(file);
    expect(r.capture.packets).toBe(pkts.length);
    expect(r.connections[0]!.clientToServer.payloadBytes).toBe(analyze(base).connections[0]!.clientToServer.payloadBytes);
  });

  it('keeps nanosecond timestamps exact', async () => {
    const file = join(dir, 'ns.pcap');
    const one = pkts.slice(0, 3).map((p, i) => ({ ...p, sec: 1_700_000_000, nsec: 123_456_789 + i }));
    await writeFile(file, writePcap(one, { ns: true }));
    const got: number[] = [];
    readCapture(file, (p) => got.push(p.nsec));
    expect(got).toEqual([123_456_789, 123_456_790, 123_456_791]);
    await writeFile(file, writePcapng(one, { tsresol: 9 }));
    got.length = 0;
    readCapture(file, (p) => got.push(p.nsec));
    expect(got).toEqual([123_456_789, 123_456_790, 123_456_791]);
  });
});

describe('link types', () => {
  for (const lt of ['raw', 'sll', 'sll2', 'null', 'loop', 'vlan'] as const) {
    it(`${lt}: same analysis as Ethernet, flags equal tshark's`, async () => {
      const file = join(dir, `link-${lt}.pcap`);
      const re = relink(pkts, lt);
      await writeFile(file, writePcap(re, { linktype: re[0]!.linktype }));
      expect(essence(file)).toEqual(essence(base));
      expect(flagDifferences(file)).toEqual([]);
    });
  }

  it('never counts Ethernet padding as payload', async () => {
    // pad every frame to at least 64 bytes plus 10 bytes of junk: the IP length decides
    const padded = pkts.map((p) => ({ ...p, data: Buffer.concat([p.data, Buffer.alloc(10, 0xee)]), origlen: p.origlen + 10 }));
    const file = join(dir, 'padded.pcap');
    await writeFile(file, writePcap(padded));
    expect(essence(file)).toEqual(essence(base));
  });

  it('analyses snaplen-truncated packets as far as they go, and counts them', async () => {
    const cut = pkts.map((p) => ({ ...p, data: p.data.subarray(0, 80) }));
    const file = join(dir, 'snap80.pcap');
    await writeFile(file, writePcap(cut, { snaplen: 80 }));
    const r = analyze(file);
    expect(essence(file)).toEqual(essence(base));
    expect(r.connections[0]!.clientToServer.truncatedPackets).toBeGreaterThan(100);
  });
});

describe('bad files', () => {
  const write = async (name: string, bytes: Buffer): Promise<string> => {
    const f = join(dir, name);
    await writeFile(f, bytes);
    return f;
  };

  it('not a capture → AUDIOLAB_ERR_CAPTURE_FORMAT at offset 0', async () => {
    const f = await write('text.pcap', Buffer.from('this is a text file, not a capture\n'));
    expect(() => analyze(f)).toThrow(expect.objectContaining({ code: 'AUDIOLAB_ERR_CAPTURE_FORMAT', context: expect.objectContaining({ offset: 0 }) }));
  });

  it('empty or truncated file header → AUDIOLAB_ERR_CAPTURE_TRUNCATED', async () => {
    expect(() => analyze(join(dir, 'missing.pcap'))).toThrow(expect.objectContaining({ code: 'AUDIOLAB_ERR_CAPTURE_FORMAT' }));
    const empty = await write('empty.pcap', Buffer.alloc(0));
    expect(() => analyze(empty)).toThrow(expect.objectContaining({ code: 'AUDIOLAB_ERR_CAPTURE_TRUNCATED' }));
    const half = await write('half.pcap', (await readFile(base)).subarray(0, 13));
    expect(() => analyze(half)).toThrow(expect.objectContaining({ code: 'AUDIOLAB_ERR_CAPTURE_TRUNCATED' }));
  });

  it('truncated last record → partial result with the offset, everything before kept', async () => {
    const whole = await readFile(base);
    const cutAt = whole.length - 700;
    const f = await write('cut.pcap', whole.subarray(0, cutAt));
    let complete = 0;
    readCapture(base, (p) => { if (p.fileOffset + 16 + p.caplen <= cutAt) complete++; });
    const r = analyze(f);
    expect(r.capture.partial).toBe(true);
    expect(r.capture.warnings[0]!.offset).toBeGreaterThan(24);
    expect(r.capture.packets).toBe(complete);
    expect(complete).toBeLessThan(pkts.length);
    const ng = writePcapng(pkts);
    const g = await write('cut.pcapng', ng.subarray(0, ng.length - 37));
    expect(analyze(g).capture.partial).toBe(true);
  });

  it('absurd record length → AUDIOLAB_ERR_CAPTURE_CORRUPT with the offset and the partial result', async () => {
    const whole = Buffer.from(await readFile(base));
    // corrupt the captured length of the 11th record
    let off = 24;
    for (let i = 0; i < 10; i++) off += 16 + whole.readUInt32LE(off + 8);
    whole.writeUInt32LE(0x7fffffff, off + 8);
    const f = await write('absurd.pcap', whole);
    let err: { code?: string; context?: { offset?: number; partialResult?: { capture: { partial: boolean }; connections: unknown[] } } } = {};
    try { analyze(f); } catch (e) { err = e as typeof err; }
    expect(err.code).toBe('AUDIOLAB_ERR_CAPTURE_CORRUPT');
    expect(err.context?.offset).toBe(off);
    expect(err.context?.partialResult?.capture.partial).toBe(true);
    expect(err.context?.partialResult?.connections).toHaveLength(1);
  });

  it('garbage pcapng blocks → AUDIOLAB_ERR_CAPTURE_CORRUPT, never a hang', async () => {
    const ng = Buffer.from(writePcapng(pkts.slice(0, 20)));
    const garbage = Buffer.concat([ng, Buffer.from([6, 0, 0, 0, 3, 0, 0, 0]), Buffer.alloc(64, 0x41)]);
    const f = await write('garbage.pcapng', garbage);
    expect(() => analyze(f)).toThrow(expect.objectContaining({ code: 'AUDIOLAB_ERR_CAPTURE_CORRUPT', context: expect.objectContaining({ offset: ng.length }) }));
    // random bytes after a valid section header
    const rnd = Buffer.concat([ng.subarray(0, 28 + 32), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff))]);
    const g = await write('random.pcapng', rnd);
    expect(() => analyze(g)).toThrow(expect.objectContaining({ code: expect.stringMatching(/AUDIOLAB_ERR_CAPTURE_(CORRUPT|TRUNCATED)/) }));
  });
});
