/**
 * The one pcap writer (capture, tests and bench): classic pcap headers. Microsecond little-endian
 * by default, the layout every tool reads; nanosecond and big-endian on request, for tests of the
 * readers.
 */
export const PCAP_LINKTYPE: Record<string, number> = {
  NULL: 0, ETHERNET: 1, RAW: 101, LINKTYPE_LINUX_SLL: 113, IEEE802_11_RADIO: 127,
};

export interface PcapLayout {
  /** Nanosecond timestamps (magic 0xa1b23c4d) instead of microseconds. */
  nanosecond?: boolean;
  bigEndian?: boolean;
}

const u32 = (b: Buffer, v: number, off: number, be: boolean | undefined): void => {
  if (be) b.writeUInt32BE(v >>> 0, off); else b.writeUInt32LE(v >>> 0, off);
};

export function pcapFileHeader(linktype: number, snaplen = 262144, layout: PcapLayout = {}): Buffer {
  const h = Buffer.alloc(24);
  const be = layout.bigEndian;
  u32(h, layout.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, 0, be);
  if (be) { h.writeUInt16BE(2, 4); h.writeUInt16BE(4, 6); } else { h.writeUInt16LE(2, 4); h.writeUInt16LE(4, 6); }
  u32(h, snaplen, 16, be);
  u32(h, linktype, 20, be);
  return h;
}

/** Writes a 16-byte record header into `out` at `offset`; `frac` is µs or ns as the layout says. Returns the offset after it. */
export function writePcapRecordHeader(out: Buffer, offset: number, sec: number, frac: number, caplen: number, origlen: number, layout: PcapLayout = {}): number {
  const be = layout.bigEndian;
  u32(out, sec, offset, be);
  u32(out, frac, offset + 4, be);
  u32(out, caplen, offset + 8, be);
  u32(out, origlen, offset + 12, be);
  return offset + 16;
}

export function pcapRecordHeader(sec: number, frac: number, caplen: number, origlen: number, layout: PcapLayout = {}): Buffer {
  const r = Buffer.allocUnsafe(16);
  writePcapRecordHeader(r, 0, sec, frac, caplen, origlen, layout);
  return r;
}
