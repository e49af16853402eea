/**
 * Crafted frames for captures the lab never makes: TCP segments in IPv4 or IPv6, wrapped in the
 * encapsulations and link types found in the wild. Each builder returns the bytes of one layer.
 */
import type { Pkt } from './capwriter.ts';

export const SYN = 0x02;
export const ACK = 0x10;
export const PSH = 0x08;
export const FIN = 0x01;
export const RST = 0x04;

const u16 = (v: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(v & 0xffff); return b; };

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface Segment { sport: number; dport: number; seq: number; ack: number; flags: number; win?: number; payload?: number; mss?: number; sackPerm?: boolean; sack?: Array<[number, number]> }

/** TCP options: MSS, SACK permitted, SACK blocks (raw sequence numbers), padded with NOPs to 32 bits. */
function options(s: Segment): Buffer {
  const parts: Buffer[] = [];
  if (s.mss !== undefined) parts.push(Buffer.from([2, 4, (s.mss >> 8) & 0xff, s.mss & 0xff]));
  if (s.sackPerm) parts.push(Buffer.from([4, 2]));
  if (s.sack?.length) {
    const b = Buffer.alloc(2 + 8 * s.sack.length);
    b[0] = 5;
    b[1] = b.length;
    s.sack.forEach(([l, r], i) => { b.writeUInt32BE(l >>> 0, 2 + 8 * i); b.writeUInt32BE(r >>> 0, 6 + 8 * i); });
    parts.push(b);
  }
  const o = Buffer.concat(parts);
  return Buffer.concat([Buffer.alloc((4 - (o.length % 4)) % 4, 1), o]);
}

/** A TCP header (with the options asked for) and `payload` bytes of 'a'. */
export function tcp(s: Segment): Buffer {
  const opts = options(s);
  const h = Buffer.alloc(20 + opts.length);
  h.writeUInt16BE(s.sport, 0);
  h.writeUInt16BE(s.dport, 2);
  h.writeUInt32BE(s.seq >>> 0, 4);
  h.writeUInt32BE(s.ack >>> 0, 8);
  h[12] = ((20 + opts.length) / 4) << 4;
  h[13] = s.flags;
  h.writeUInt16BE(s.win ?? 64240, 14);
  opts.copy(h, 20);
  return Buffer.concat([h, Buffer.alloc(s.payload ?? 0, 0x61)]);
}

const ip4Bytes = (a: string): Buffer => Buffer.from(a.split('.').map(Number));

/** An IPv4 datagram; `totalLength` overrides the header's length field (to disagree with the frame). */
export function ipv4(src: string, dst: string, proto: number, payload: Buffer, totalLength?: number): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(totalLength ?? 20 + payload.length, 2);
  h.writeUInt16BE(0x4000, 6); // DF
  h[8] = 64;
  h[9] = proto;
  ip4Bytes(src).copy(h, 12);
  ip4Bytes(dst).copy(h, 16);
  h.writeUInt16BE(checksum(h), 10);
  return Buffer.concat([h, payload]);
}

function ip6Bytes(a: string): Buffer {
  const [head, tail] = a.split('::') as [string, string | undefined];
  const hs = head ? head.split(':') : [];
  const ts = tail ? tail.split(':') : [];
  const groups = [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts];
  return Buffer.concat(groups.map((g) => u16(parseInt(g, 16))));
}

/** An IPv6 packet; `payloadLength` overrides the header's field. */
export function ipv6(src: string, dst: string, next: number, payload: Buffer, payloadLength?: number): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(payloadLength ?? payload.length, 4);
  h[6] = next;
  h[7] = 64;
  ip6Bytes(src).copy(h, 8);
  ip6Bytes(dst).copy(h, 24);
  return Buffer.concat([h, payload]);
}

export function udp(sport: number, dport: number, payload: Buffer): Buffer {
  return Buffer.concat([u16(sport), u16(dport), u16(8 + payload.length), u16(0), payload]);
}

export function ethernet(type: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]), u16(type), payload]);
}

export const ETHER_IPV4 = 0x0800;
export const ETHER_IPV6 = 0x86dd;
export const etherOf = (datagram: Buffer): number => (datagram[0]! >> 4 === 6 ? ETHER_IPV6 : ETHER_IPV4);

/** Each way of carrying an IP datagram: the frame's bytes and its link type. */
export const ENCAPSULATIONS: Record<string, { linktype: number; wrap: (ip: Buffer) => Buffer }> = {
  ethernet: { linktype: 1, wrap: (ip) => ethernet(etherOf(ip), ip) },
  qinq: { linktype: 1, wrap: (ip) => ethernet(0x88a8, Buffer.concat([u16(100), u16(0x8100), u16(200), u16(etherOf(ip)), ip])) },
  mpls: { linktype: 1, wrap: (ip) => ethernet(0x8847, Buffer.concat([Buffer.from([0x00, 0x06, 0x40, 0x40]), Buffer.from([0x00, 0x0c, 0x81, 0x40]), ip])) },
  pppoe: { linktype: 1, wrap: (ip) => ethernet(0x8864, Buffer.concat([Buffer.from([0x11, 0x00]), u16(0x1234), u16(ip.length + 2), u16(etherOf(ip) === ETHER_IPV6 ? 0x0057 : 0x0021), ip])) },
  gre: { linktype: 1, wrap: (ip) => ethernet(ETHER_IPV4, ipv4('192.0.2.1', '192.0.2.2', 47, Buffer.concat([u16(0), u16(etherOf(ip)), ip]))) },
  'gre-key-seq': { linktype: 1, wrap: (ip) => ethernet(ETHER_IPV4, ipv4('192.0.2.1', '192.0.2.2', 47, Buffer.concat([u16(0x3000), u16(etherOf(ip)), Buffer.alloc(4, 7), Buffer.alloc(4, 1), ip]))) },
  vxlan: { linktype: 1, wrap: (ip) => ethernet(ETHER_IPV4, ipv4('192.0.2.1', '192.0.2.2', 17, udp(49152, 4789, Buffer.concat([Buffer.from([0x08, 0, 0, 0, 0, 0x10, 0x01, 0]), ethernet(etherOf(ip), ip)])))) },
  geneve: { linktype: 1, wrap: (ip) => ethernet(ETHER_IPV4, ipv4('192.0.2.1', '192.0.2.2', 17, udp(49152, 6081, Buffer.concat([Buffer.from([0x00, 0x00, 0x65, 0x58, 0, 0x10, 0x01, 0]), ethernet(etherOf(ip), ip)])))) },
  'ip-in-ip': { linktype: 1, wrap: (ip) => ethernet(ETHER_IPV4, ipv4('192.0.2.1', '192.0.2.2', 4, ip)) },
  '6in4': { linktype: 1, wrap: (ip) => ethernet(ETHER_IPV4, ipv4('192.0.2.1', '192.0.2.2', 41, ip)) },
  // the 40-byte pseudo-header of LINKTYPE_IPOIB: zero (no GRH), then the destination address
  ipoib: { linktype: 242, wrap: (ip) => Buffer.concat([Buffer.alloc(20), Buffer.alloc(20, 0xfe), u16(etherOf(ip)), u16(0), ip]) },
  fddi: { linktype: 10, wrap: (ip) => Buffer.concat([Buffer.from([0x50, 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0xaa, 0xaa, 0x03, 0, 0, 0]), u16(etherOf(ip)), ip]) },
};

/**
 * A whole short connection as IP datagrams: handshake (MSS 1460/1400), 1000 bytes client→server,
 * 500 back, each ACKed, and a FIN exchange; 1 ms apart, from `t0` seconds.
 */
export function conversation(v6: boolean): Buffer[] {
  const c = v6 ? '2001:db8::1' : '10.0.0.1';
  const s = v6 ? '2001:db8::2' : '10.0.0.2';
  const ip = (from: 'c' | 'server', seg: Segment): Buffer => {
    const [a, b] = from === 'c' ? [c, s] : [s, c];
    return v6 ? ipv6(a, b, 6, tcp(seg)) : ipv4(a, b, 6, tcp(seg));
  };
  const cs = { sport: 40000, dport: 80 };
  const sc = { sport: 80, dport: 40000 };
  return [
    ip('c', { ...cs, seq: 1000, ack: 0, flags: SYN, mss: 1460 }),
    ip('server', { ...sc, seq: 5000, ack: 1001, flags: SYN | ACK, mss: 1400 }),
    ip('c', { ...cs, seq: 1001, ack: 5001, flags: ACK }),
    ip('c', { ...cs, seq: 1001, ack: 5001, flags: PSH | ACK, payload: 1000 }),
    ip('server', { ...sc, seq: 5001, ack: 2001, flags: ACK }),
    ip('server', { ...sc, seq: 5001, ack: 2001, flags: PSH | ACK, payload: 500 }),
    ip('c', { ...cs, seq: 2001, ack: 5501, flags: ACK }),
    ip('c', { ...cs, seq: 2001, ack: 5501, flags: FIN | ACK }),
    ip('server', { ...sc, seq: 5501, ack: 2002, flags: FIN | ACK }),
    ip('c', { ...cs, seq: 2002, ack: 5502, flags: ACK }),
  ];
}

/** Frames 1 ms apart from `t0` (seconds), whole (caplen = origlen). */
export function frames(bytes: Buffer[], linktype: number, t0 = 1_700_000_000): Pkt[] {
  return bytes.map((data, i) => ({ sec: t0, nsec: i * 1_000_000, data, origlen: data.length, linktype }));
}

/** An Ethernet/IPv4 connection 10.0.0.1:40000 ⇄ 10.0.0.2:80 from a list of segments, each at its own time (ms). */
export function tcp4(steps: Array<[ms: number, from: 'c' | 's', seg: Omit<Segment, 'sport' | 'dport'>]>, t0 = 1_700_000_000): Pkt[] {
  return steps.map(([ms, from, seg]) => {
    const [a, b, sport, dport] = from === 'c' ? ['10.0.0.1', '10.0.0.2', 40000, 80] : ['10.0.0.2', '10.0.0.1', 80, 40000];
    const data = ethernet(0x0800, ipv4(a, b, 6, tcp({ sport, dport, ...seg })));
    const ns = Math.round(ms * 1e6);
    return { sec: t0 + Math.floor(ns / 1e9), nsec: ns % 1e9, data, origlen: data.length, linktype: 1 };
  });
}

/** One step of a crafted story: when (ms), who sends (client or server), the segment. */
export type Step = [number, 'c' | 's', Omit<Segment, 'sport' | 'dport'>];

/**
 * A story's start for tcp4(): client ISN 1000, server ISN 5000, both offering SACK (iRTT 21 ms).
 * The client then sends 1000-byte segments, segment k at `at(k)` (dataStep), the server ACKs (ackStep).
 */
export const SACK_HANDSHAKE: Step[] = [
  [0, 'c', { seq: 1000, ack: 0, flags: SYN, mss: 1460, sackPerm: true }],
  [20, 's', { seq: 5000, ack: 1001, flags: SYN | ACK, mss: 1460, sackPerm: true }],
  [21, 'c', { seq: 1001, ack: 5001, flags: ACK }],
];
export const at = (k: number): number => 1001 + 1000 * k;
export const dataStep = (ms: number, k: number): Step => [ms, 'c', { seq: at(k), ack: 5001, flags: PSH | ACK, payload: 1000 }];
export const ackStep = (ms: number, k: number, extra: Partial<Segment> = {}): Step => [ms, 's', { seq: 5001, ack: at(k), flags: ACK, ...extra }];
