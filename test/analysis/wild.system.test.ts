/**
 * Agreement with tshark on captures the lab never makes, crafted one class at a time from what
 * captures in the wild hold: IP lengths that disagree with the frame, tunnels and other link types.
 * Each capture is checked frame by frame (every tcp.analysis flag) and per connection (packets,
 * payload, iRTT, MSS), and each asserts the fact that makes it non-vacuous.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, tempDir } from '../helpers.ts';
import { writePcap, writePcapng } from './capwriter.ts';
import { connectionDifferences, flagDifferences, tsharkConnections } from './oracle.ts';
import { ACK, conversation, ENCAPSULATIONS, ethernet, frames, ipv4, ipv6, PSH, RST, SYN, tcp, tcp4, type Segment } from './craft.ts';
import { analyze } from '../../analysis/analyze.ts';
import { encodeHeader, encodeToBuffer } from '../../services/protocol/codec.ts';

let dir: string;
beforeAll(async () => { dir = await tempDir('audiolab-wild-'); });

async function save(name: string, pcap: Buffer): Promise<string> {
  const file = join(dir, `${name}.pcap`);
  await writeFile(file, pcap);
  return file;
}

const tsharkLens = (file: string): number[] => execFileSync('tshark', ['-n', '-r', file, '-Y', 'tcp', '-T', 'fields', '-e', 'tcp.len'], { encoding: 'utf8' }).trim().split('\n').map(Number);

describe('encapsulations (the TCP inside, as tshark sees it)', () => {
  for (const [name, { linktype, wrap }] of Object.entries(ENCAPSULATIONS)) {
    for (const v6 of name === '6in4' ? [true] : [false, true]) {
      it(`${name}${v6 ? ' / IPv6' : ''}: one connection, every flag and count equal tshark's`, async () => {
        const file = await save(`${name}${v6 ? '-v6' : ''}`, writePcap(frames(conversation(v6).map(wrap), linktype)));
        const truth = tsharkConnections(file);
        expect(truth.size, 'tshark sees the connection').toBe(1);
        expect(flagDifferences(file)).toEqual([]);
        expect(connectionDifferences(file)).toEqual([]);
        const c = analyze(file).connections[0]!;
        expect([c.client.ip, c.clientToServer.payloadBytes, c.serverToClient.payloadBytes]).toEqual([v6 ? '2001:db8::1' : '10.0.0.1', 1000, 500]);
      });
    }
  }

  it('counts what it cannot decode by ethertype and link type, in the JSON', async () => {
    const lldp = ethernet(0x88cc, Buffer.alloc(40, 1));
    const tcpFrames = frames(conversation(false).map(ENCAPSULATIONS.ethernet!.wrap), 1);
    const file = await save('undecoded', writePcap([...tcpFrames, ...frames([lldp, lldp], 1, 1_700_000_001)]));
    const r = analyze(file);
    expect(r.capture.undecoded).toEqual({ 'ethertype 0x88cc': 2 });
    expect(r.connections).toHaveLength(1);
    const other = await save('linktype-147', writePcap(frames([Buffer.alloc(60)], 147)));
    expect(analyze(other).capture.undecoded).toEqual({ 'linktype 147': 1 });
  });
});

describe('IP length larger than the frame (class 1)', () => {
  // a frame of 200 bytes on the wire and in the file, whose IP header claims a full-size datagram
  const cut = (datagram: Buffer, keep: number): Buffer => ethernet(datagram[0]! >> 4 === 6 ? 0x86dd : 0x0800, datagram.subarray(0, keep));
  for (const v6 of [false, true]) {
    it(`${v6 ? 'IPv6 payload' : 'IPv4 total'} length beyond the frame: the payload ends with the frame, as in tshark`, async () => {
      const conv = conversation(v6);
      const c = v6 ? '2001:db8::1' : '10.0.0.1';
      const s = v6 ? '2001:db8::2' : '10.0.0.2';
      const seg = tcp({ sport: 40000, dport: 80, seq: 2001, ack: 5501, flags: PSH | ACK, payload: 1460 });
      const big = v6 ? ipv6(c, s, 6, seg, 1480) : ipv4(c, s, 6, seg, 1500);
      const hdr = 14 + (v6 ? 40 : 20) + 20;
      // handshake and the first exchange, then the frame cut at 200 bytes, then data after it
      const after = tcp({ sport: 40000, dport: 80, seq: 2001 + (200 - hdr), ack: 5501, flags: PSH | ACK, payload: 100 });
      const next = v6 ? ipv6(c, s, 6, after) : ipv4(c, s, 6, after);
      const serverAck = tcp({ sport: 80, dport: 40000, seq: 5501, ack: 2001 + (200 - hdr) + 100, flags: ACK });
      const ackIp = v6 ? ipv6(s, c, 6, serverAck) : ipv4(s, c, 6, serverAck);
      const wire = [...conv.slice(0, 7).map(ENCAPSULATIONS.ethernet!.wrap), cut(big, 200 - 14), ENCAPSULATIONS.ethernet!.wrap(next), ENCAPSULATIONS.ethernet!.wrap(ackIp)];
      const file = await save(`ip-length-${v6 ? 6 : 4}`, writePcap(frames(wire, 1)));
      expect(tsharkLens(file)[7]).toBe(200 - hdr);
      expect(flagDifferences(file)).toEqual([]);
      expect(connectionDifferences(file)).toEqual([]);
    });
  }
});

const HANDSHAKE: Array<[number, 'c' | 's', Omit<Segment, 'sport' | 'dport'>]> = [
  [0, 'c', { seq: 1000, ack: 0, flags: SYN, mss: 1460 }],
  [20, 's', { seq: 5000, ack: 1001, flags: SYN | ACK, mss: 1460 }],
  [21, 'c', { seq: 1001, ack: 5001, flags: ACK }],
];

const tsharkCount = (file: string, filter: string): number => {
  const out = execFileSync('tshark', ['-n', '-r', file, '-Y', filter, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).trim();
  return out ? out.split('\n').length : 0;
};

describe('ACKed-unseen flagged once for the same unseen data (class 2)', () => {
  it('A: the receiver ACKs beyond what was sent, twice, while the sender\'s own ACK never changes', async () => {
    const file = await save('acked-unseen-a', writePcap(tcp4([
      ...HANDSHAKE,
      [30, 'c', { seq: 1001, ack: 5001, flags: PSH | ACK, payload: 1000 }],
      [50, 's', { seq: 5001, ack: 2101, flags: ACK }],
      [60, 'c', { seq: 2001, ack: 5001, flags: PSH | ACK, payload: 100 }],
      [80, 's', { seq: 5001, ack: 2201, flags: ACK }],
    ])));
    expect(tsharkCount(file, 'tcp.analysis.ack_lost_segment')).toBeGreaterThan(0);
    expect(flagDifferences(file)).toEqual([]);
  });

  it('B: a hole at the end, the receiver ACKs beyond it and repeats that with new windows, the sender goes on, then an exact ACK', async () => {
    const file = await save('acked-unseen-b', writePcap(tcp4([
      ...HANDSHAKE,
      [30, 'c', { seq: 1001, ack: 5001, flags: PSH | ACK, payload: 1000 }],
      // 2001..3001 is not captured
      [50, 's', { seq: 5001, ack: 3001, flags: ACK, win: 60000 }],
      [51, 's', { seq: 5001, ack: 3001, flags: ACK, win: 61000 }],
      [52, 's', { seq: 5001, ack: 3001, flags: ACK, win: 62000 }],
      [60, 'c', { seq: 3001, ack: 5001, flags: PSH | ACK, payload: 1000 }],
      [80, 's', { seq: 5001, ack: 4001, flags: ACK, win: 62000 }],
    ])));
    expect(tsharkCount(file, 'tcp.analysis.ack_lost_segment')).toBeGreaterThan(0);
    expect(flagDifferences(file)).toEqual([]);
    expect(connectionDifferences(file)).toEqual([]);
  });
});

describe('initial RTT without a SYN-ACK (class 3) and times before the first record (class 4)', () => {
  it('SYN then RST-ACK, and SYN then a pure ACK: the iRTT is taken at that frame', async () => {
    for (const [name, flags] of [['syn-rstack', RST | ACK], ['syn-ack-only', ACK]] as const) {
      const file = await save(name, writePcap(tcp4([
        [0, 'c', { seq: 1000, ack: 0, flags: SYN, mss: 1460 }],
        [1.316, 's', { seq: 0, ack: 1001, flags }],
      ])));
      expect(tsharkConnections(file).get(0)!.irttMs).toBeCloseTo(1.316, 6);
      expect(connectionDifferences(file)).toEqual([]);
    }
  });

  it('a handshake recorded before the capture\'s first record is complete, with its iRTT', async () => {
    const first = tcp4([[0, 'c', { seq: 77, ack: 88, flags: ACK }]], 1000).map((p) => {
      const data = Buffer.from(p.data);
      data.writeUInt16BE(40001, 34); // another connection
      return { ...p, data };
    });
    const early = tcp4([...HANDSHAKE, [30, 'c', { seq: 1001, ack: 5001, flags: PSH | ACK, payload: 1000 }], [50, 's', { seq: 5001, ack: 2001, flags: ACK }]], 990);
    const file = await save('time-before-first', writePcap([...first, ...early]));
    expect(tsharkConnections(file).get(1)!.irttMs).toBeCloseTo(21, 6);
    expect(connectionDifferences(file)).toEqual([]);
    expect(flagDifferences(file)).toEqual([]);
    const c = analyze(file).connections[1]!;
    expect([c.handshake.complete, c.handshake.initialRttMs]).toEqual([true, 21]);
  });
});

describe('times kept exactly (class 8) and old pcap versions (class 9)', () => {
  it('a pcapng interface at about 2^64 µs: SYN and RST-ACK 22 µs apart give an iRTT of 0.022 ms', async () => {
    const sec = 18_446_744_073_000; // 2^64 µs is 18 446 744 073 709.55 s
    const pkts = tcp4([
      [0, 'c', { seq: 1000, ack: 0, flags: SYN, mss: 1460 }],
      [0.022, 's', { seq: 0, ack: 1001, flags: RST | ACK }],
    ], sec);
    const file = join(dir, 'far-epoch.pcapng');
    await writeFile(file, writePcapng(pkts));
    expect(tsharkConnections(file).get(0)!.irttMs).toBeCloseTo(0.022, 6);
    expect(connectionDifferences(file)).toEqual([]);
    const r = analyze(file);
    expect(r.capture.startTime).toBeNull(); // past the dates JavaScript can show: said as none, not an error
    expect(r.connections[0]!.handshake.initialRttMs).toBe(0.022);
  });

  it('a pcapng timestamp of 0xFFFFFFFF:00000000 is a result, not INTERNAL', async () => {
    const pkts = frames(conversation(false).map(ENCAPSULATIONS.ethernet!.wrap), 1, 0);
    const ng = writePcapng(pkts);
    // the first EPB's timestamp (high, low) after the SHB (28 bytes) and IDB (32 bytes)
    ng.writeUInt32LE(0xffffffff, 28 + 32 + 12);
    ng.writeUInt32LE(0, 28 + 32 + 16);
    const file = join(dir, 'ts-max.pcapng');
    await writeFile(file, ng);
    const r = analyze(file);
    expect(r.connections).toHaveLength(1);
  });

  it('pcap version 2.2 writes a record\'s original length first: read as wiretap does (swapped)', async () => {
    const whole = frames(conversation(false).map(ENCAPSULATIONS.ethernet!.wrap), 1);
    const snap = 68;
    const parts: Buffer[] = [];
    const fh = Buffer.alloc(24);
    fh.writeUInt32LE(0xa1b2c3d4, 0); fh.writeUInt16LE(2, 4); fh.writeUInt16LE(2, 6); fh.writeUInt32LE(snap, 16); fh.writeUInt32LE(1, 20);
    parts.push(fh);
    for (const p of whole) {
      const cut = p.data.subarray(0, snap);
      const rh = Buffer.alloc(16);
      rh.writeUInt32LE(p.sec, 0); rh.writeUInt32LE(Math.floor(p.nsec / 1000), 4);
      rh.writeUInt32LE(p.data.length, 8); // [orig_len, incl_len]: the order before 2.3
      rh.writeUInt32LE(cut.length, 12);
      parts.push(rh, cut);
    }
    const file = await save('pcap-2.2', Buffer.concat(parts));
    const tsharkPackets = execFileSync('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).trim().split('\n').length;
    const r = analyze(file);
    expect([r.capture.packets, r.capture.partial]).toEqual([tsharkPackets, false]);
    expect(tsharkPackets).toBe(whole.length);
    expect(flagDifferences(file)).toEqual([]);
    expect(connectionDifferences(file)).toEqual([]);
  });
});

describe('captures as streams, and what is not a capture', () => {
  const audiolab = (args: string[], input?: Buffer): { code: number; stdout: string; stderr: string } => {
    try {
      const stdout = execFileSync(process.execPath, [join(ROOT, 'bin/audiolab.mjs'), ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
      return { code: 0, stdout, stderr: '' };
    } catch (e) {
      const err = e as { status: number; stdout: string; stderr: string };
      return { code: err.status, stdout: err.stdout, stderr: err.stderr };
    }
  };

  it('analyze - reads standard input, and a FIFO is read as a stream: the same result as the file', async () => {
    const file = await save('stream', writePcap(frames(conversation(false).map(ENCAPSULATIONS.ethernet!.wrap), 1)));
    const fromFile = JSON.parse(audiolab(['analyze', file, '--tcp-only', '--json', '-']).stdout) as { connections: unknown[]; capture: { packets: number } };
    const piped = audiolab(['analyze', '-', '--tcp-only', '--json', '-'], await readFile(file));
    expect(piped.code).toBe(0);
    const fromStdin = JSON.parse(piped.stdout) as typeof fromFile;
    expect(fromStdin.connections).toEqual(fromFile.connections);
    expect(fromStdin.capture.packets).toBe(10);
    const fifo = join(dir, 'capture.fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `cat ${file} > ${fifo}`]);
    const viaFifo = audiolab(['analyze', fifo, '--tcp-only', '--json', '-']);
    await once(writer, 'exit');
    expect(viaFifo.code).toBe(0);
    expect((JSON.parse(viaFifo.stdout) as typeof fromFile).connections).toEqual(fromFile.connections);
  });

  it('a folder is a coded error that says so', () => {
    const r = audiolab(['analyze', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/AUDIOLAB_ERR_CAPTURE_FORMAT: .* is a folder/);
    expect(r.stderr).not.toMatch(/INTERNAL|EISDIR/);
  });

  it('an empty audiolab frame (length 0) in a capture is a coded error of its stream, not INTERNAL', async () => {
    const conv = conversation(false);
    // the client's 1000-byte segment carries an 8-byte frame header of length 0, then a PING
    const frame = Buffer.concat([encodeHeader(0x04, 0), encodeToBuffer({ type: 'PING', t: 1 })]);
    const seg = tcp({ sport: 40000, dport: 5050, seq: 1001, ack: 5001, flags: PSH | ACK, payload: 0 });
    const withApp = Buffer.concat([seg, frame]);
    const pkts: Buffer[] = conv.slice(0, 3).map((ip) => {
      const b = Buffer.from(ip);
      b.writeUInt16BE(b.readUInt16BE(20) === 80 ? 5050 : b.readUInt16BE(20), 20);
      b.writeUInt16BE(b.readUInt16BE(22) === 80 ? 5050 : b.readUInt16BE(22), 22);
      return b;
    });
    pkts.push(ipv4('10.0.0.1', '10.0.0.2', 6, withApp));
    const file = await save('empty-frame', writePcap(frames(pkts.map(ENCAPSULATIONS.ethernet!.wrap), 1)));
    const r = audiolab(['analyze', file, '--json', '-']);
    expect(r.code, r.stderr).toBe(0);
    // an empty PING is no JSON: a coded error for that direction, and the rest of the analysis stands
    const app = (JSON.parse(r.stdout) as { app: { undecoded: Array<{ code: string }> } }).app;
    expect(app.undecoded.map((u) => u.code)).toEqual(['AUDIOLAB_ERR_BAD_PAYLOAD']);
    expect(r.stdout).not.toContain('INTERNAL');
  });
});

describe('the peer\'s window before it was seen (class 5)', () => {
  it('two 1-byte segments with window 0, mid-stream, before anything from the peer: no zero-window probe', async () => {
    const file = await save('window-unseen', writePcap(tcp4([
      [0, 'c', { seq: 7000, ack: 9000, flags: PSH | ACK, payload: 1, win: 0 }],
      [0.1, 'c', { seq: 7001, ack: 9000, flags: PSH | ACK, payload: 1, win: 0 }],
      [20, 's', { seq: 9000, ack: 7002, flags: ACK }],
    ])));
    expect(tsharkCount(file, 'tcp.analysis.zero_window')).toBe(2); // the flags are exercised: zero window, but no probe
    expect(flagDifferences(file)).toEqual([]);
  });
});

describe('handshake completeness in any order (class 7)', () => {
  const cases: Record<string, Array<[number, 'c' | 's', Omit<Segment, 'sport' | 'dport'>]>> = {
    'SYN-ACK before the SYN, then the ACK': [[0, 's', { seq: 5000, ack: 1001, flags: SYN | ACK }], [1, 'c', { seq: 1000, ack: 0, flags: SYN }], [2, 'c', { seq: 1001, ack: 5001, flags: ACK }]],
    'SYN, a stray server ACK, SYN-ACK, no client ACK': [[0, 'c', { seq: 1000, ack: 0, flags: SYN }], [1, 's', { seq: 5001, ack: 1001, flags: ACK }], [2, 's', { seq: 5000, ack: 1001, flags: SYN | ACK }]],
    'an ACK before the SYN': [[0, 'c', { seq: 1001, ack: 5001, flags: ACK }], [1, 'c', { seq: 1000, ack: 0, flags: SYN }], [2, 's', { seq: 5000, ack: 1001, flags: SYN | ACK }]],
    'SYN, SYN-ACK, RST-ACK': [[0, 'c', { seq: 1000, ack: 0, flags: SYN }], [1, 's', { seq: 5000, ack: 1001, flags: SYN | ACK }], [2, 'c', { seq: 1001, ack: 5001, flags: RST | ACK }]],
    'SYN, SYN-ACK twice, no ACK': [[0, 'c', { seq: 1000, ack: 0, flags: SYN }], [1, 's', { seq: 5000, ack: 1001, flags: SYN | ACK }], [2, 's', { seq: 5000, ack: 1001, flags: SYN | ACK }]],
  };
  for (const [name, steps] of Object.entries(cases)) {
    it(`${name}: completeness and completeness bits equal tshark's`, async () => {
      const file = await save(`completeness-${Object.keys(cases).indexOf(name)}`, writePcap(tcp4(steps)));
      const last = execFileSync('tshark', ['-2', '-n', '-r', file, '-T', 'fields', '-e', 'tcp.completeness'], { encoding: 'utf8' }).trim().split('\n').at(-1);
      const c = analyze(file).connections[0]!;
      expect(c.handshake.completeness).toBe(Number(last));
      expect(c.handshake.complete).toBe((Number(last) & 7) === 7);
    });
  }
});
