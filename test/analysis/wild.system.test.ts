/**
 * Agreement with tshark on captures the lab never makes, crafted one class at a time from what
 * captures in the wild hold: IP lengths that disagree with the frame, tunnels and other link types.
 * Each capture is checked frame by frame (every tcp.analysis flag) and per connection (packets,
 * payload, iRTT, MSS), and each asserts the fact that makes it non-vacuous.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers.ts';
import { writePcap } from './capwriter.ts';
import { connectionDifferences, flagDifferences, tsharkConnections } from './oracle.ts';
import { ACK, conversation, ENCAPSULATIONS, ethernet, frames, ipv4, ipv6, PSH, tcp } from './craft.ts';
import { analyze } from '../../analysis/analyze.ts';

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
