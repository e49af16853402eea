/** Writes test captures in every layout the reader must handle (pcap µs/ns, both byte orders; pcapng variants). */
import { readCapture } from '../../analysis/capture/reader.ts';
import { pcapFileHeader, pcapRecordHeader } from '../../capture/pcap-writer.ts';

export interface Pkt { sec: number; nsec: number; data: Buffer; origlen: number; linktype: number }

export function loadPackets(file: string): Pkt[] {
  const out: Pkt[] = [];
  readCapture(file, (p) => out.push({ sec: p.sec, nsec: p.nsec, data: Buffer.from(p.data), origlen: p.origlen, linktype: p.linktype }));
  return out;
}

export function writePcap(pkts: Pkt[], o: { ns?: boolean; be?: boolean; linktype?: number; snaplen?: number } = {}): Buffer {
  const layout = { nanosecond: o.ns, bigEndian: o.be };
  const parts: Buffer[] = [pcapFileHeader(o.linktype ?? pkts[0]?.linktype ?? 1, o.snaplen ?? 262144, layout)];
  for (const p of pkts) {
    parts.push(pcapRecordHeader(p.sec, o.ns ? p.nsec : Math.floor(p.nsec / 1000), p.data.length, p.origlen, layout), p.data);
  }
  return Buffer.concat(parts);
}

type Block = { type: number; body: Buffer };

function pad4(b: Buffer): Buffer {
  const n = (4 - (b.length % 4)) % 4;
  return n ? Buffer.concat([b, Buffer.alloc(n)]) : b;
}

function block(be: boolean, { type, body }: Block): Buffer {
  const b = pad4(body);
  const out = Buffer.alloc(12 + b.length);
  const w32 = (v: number, off: number): void => { if (be) out.writeUInt32BE(v >>> 0, off); else out.writeUInt32LE(v >>> 0, off); };
  w32(type, 0);
  w32(out.length, 4);
  b.copy(out, 8);
  w32(out.length, out.length - 4);
  return out;
}

export interface NgOptions {
  be?: boolean;
  /** if_tsresol byte per interface (default 6 = µs). */
  tsresol?: number;
  /** Split packets over this many interfaces (packets go round-robin). */
  interfaces?: number;
  /** Start a new section every this many packets. */
  sectionEvery?: number;
  /** Use SPB (no timestamps) or OPB instead of EPB for every k-th packet. */
  spbEvery?: number;
  opbEvery?: number;
  /** Insert an unknown block after every this many packets. */
  unknownEvery?: number;
}

export function writePcapng(pkts: Pkt[], o: NgOptions = {}): Buffer {
  const be = o.be ?? false;
  const n = (v: number, size: 2 | 4): Buffer => {
    const b = Buffer.alloc(size);
    if (size === 2) { if (be) b.writeUInt16BE(v); else b.writeUInt16LE(v); } else if (be) b.writeUInt32BE(v >>> 0); else b.writeUInt32LE(v >>> 0);
    return b;
  };
  const res = o.tsresol ?? 6;
  const ticksPerSec = res & 0x80 ? 2n ** BigInt(res & 0x7f) : 10n ** BigInt(res);
  const ifaces = o.interfaces ?? 1;
  const out: Buffer[] = [];
  const section = (): void => {
    out.push(block(be, { type: 0x0a0d0d0a, body: Buffer.concat([n(0x1a2b3c4d, 4), n(1, 2), n(0, 2), Buffer.alloc(8, 0xff)]) }));
    for (let i = 0; i < ifaces; i++) {
      const opt = Buffer.concat([n(9, 2), n(1, 2), Buffer.from([res, 0, 0, 0]), n(0, 2), n(0, 2)]);
      out.push(block(be, { type: 1, body: Buffer.concat([n(pkts[0]?.linktype ?? 1, 2), n(0, 2), n(262144, 4), opt]) }));
    }
  };
  section();
  pkts.forEach((p, i) => {
    if (o.sectionEvery && i > 0 && i % o.sectionEvery === 0) section();
    const ticks = BigInt(p.sec) * ticksPerSec + (BigInt(p.nsec) * ticksPerSec) / 1_000_000_000n;
    const hi = Number(ticks >> 32n);
    const lo = Number(ticks & 0xffffffffn);
    const iface = i % ifaces;
    if (o.spbEvery && i % o.spbEvery === 0 && ifaces === 1) {
      out.push(block(be, { type: 3, body: Buffer.concat([n(p.origlen, 4), p.data]) }));
    } else if (o.opbEvery && i % o.opbEvery === 0) {
      out.push(block(be, { type: 2, body: Buffer.concat([n(iface, 2), n(0, 2), n(hi, 4), n(lo, 4), n(p.data.length, 4), n(p.origlen, 4), pad4(p.data)]) }));
    } else {
      out.push(block(be, { type: 6, body: Buffer.concat([n(iface, 4), n(hi, 4), n(lo, 4), n(p.data.length, 4), n(p.origlen, 4), pad4(p.data)]) }));
    }
    if (o.unknownEvery && i % o.unknownEvery === 0) out.push(block(be, { type: 0x0badcafe & 0x7fffffff, body: Buffer.from('hello, unknown block') }));
  });
  return Buffer.concat(out);
}

/** Re-encapsulates Ethernet frames (IPv4/IPv6) into another link type. */
export function relink(pkts: Pkt[], linktype: 'raw' | 'sll' | 'sll2' | 'null' | 'loop' | 'vlan'): Pkt[] {
  return pkts.map((p) => {
    const ethType = p.data.readUInt16BE(12);
    const ipPart = p.data.subarray(14);
    let head: Buffer;
    let lt: number;
    switch (linktype) {
      case 'raw': head = Buffer.alloc(0); lt = 101; break;
      case 'sll': head = Buffer.alloc(16); head.writeUInt16BE(0, 0); head.writeUInt16BE(1, 2); head.writeUInt16BE(6, 4); p.data.copy(head, 6, 6, 12); head.writeUInt16BE(ethType, 14); lt = 113; break;
      case 'sll2': head = Buffer.alloc(20); head.writeUInt16BE(ethType, 0); head.writeUInt32BE(2, 4); head.writeUInt16BE(1, 8); head[10] = 0; head[11] = 6; p.data.copy(head, 12, 6, 12); lt = 276; break;
      case 'null': head = Buffer.alloc(4); head.writeUInt32LE(ethType === 0x0800 ? 2 : 30, 0); lt = 0; break;
      case 'loop': head = Buffer.alloc(4); head.writeUInt32BE(ethType === 0x0800 ? 2 : 30, 0); lt = 108; break;
      case 'vlan': {
        const tag = Buffer.from([0x81, 0x00, 0x00, 0x2a]);
        const data = Buffer.concat([p.data.subarray(0, 12), tag, p.data.subarray(12)]);
        return { ...p, data, origlen: p.origlen + 4, linktype: 1 };
      }
    }
    const data = Buffer.concat([head, ipPart]);
    return { ...p, data, origlen: p.origlen - 14 + head.length, linktype: lt };
  });
}
