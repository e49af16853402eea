/**
 * Decodes link, IP and TCP headers from a captured frame into one reused record (after gopacket's
 * DecodingLayerParser and etherparse's slices): fields are read from the frame in place and nothing
 * is allocated per packet but the address strings of a new connection.
 *
 * Rules (from the style guide's anchors):
 * - IP payload is trimmed to the IP length (Ethernet padding is never payload), except that an IPv4
 *   total length of 0 (TSO, BIG TCP) means "up to the captured end".
 * - A snaplen-truncated frame is decoded as far as it goes: headers that are complete count; the
 *   TCP payload length comes from the IP length, not from what was captured.
 */

export const LINKTYPE = {
  NULL: 0, ETHERNET: 1, RAW: 101, LOOP: 108, LINUX_SLL: 113, IPV4: 228, IPV6: 229, LINUX_SLL2: 276,
} as const;

export const TH_FIN = 0x01;
export const TH_SYN = 0x02;
export const TH_RST = 0x04;
export const TH_ACK = 0x10;

export type DecodeStatus =
  | 'ok' | 'not-ip' | 'not-tcp' | 'fragment' | 'truncated' | 'malformed' | 'unsupported-link';

export interface TcpOptions {
  mss: number; // -1: absent
  wscale: number; // -1: absent
  sackPerm: boolean;
  sackBlocks: number; // number of SACK blocks in this segment
  /** Highest right edge of the SACK blocks (-1: none). */
  sackRight: number;
  tsVal: number; // -1: absent
  tsEcr: number;
}

export interface DecodedPacket {
  status: DecodeStatus;
  /** Seconds since the capture began: set by the caller (the frame's bytes do not say). */
  time: number;
  ipVersion: 4 | 6;
  /** IPv4 addresses as u32; for IPv6 the key strings below are used. */
  src4: number;
  dst4: number;
  src6: string;
  dst6: string;
  ipFragment: boolean;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  tcpHeaderLen: number;
  /** Payload bytes by the IP length (what was sent). */
  seglen: number;
  /** Offset and count of the payload bytes actually captured in the frame. */
  payloadOffset: number;
  payloadCaptured: number;
  opts: TcpOptions;
  hasOptions: boolean;
  /** The TCP options run past the captured bytes (snaplen): decoded as far as they go. */
  headerTruncated: boolean;
}

export function newDecodedPacket(): DecodedPacket {
  return {
    status: 'ok', time: 0, ipVersion: 4, src4: 0, dst4: 0, src6: '', dst6: '', ipFragment: false,
    sport: 0, dport: 0, seq: 0, ack: 0, flags: 0, window: 0, tcpHeaderLen: 0, seglen: 0,
    payloadOffset: 0, payloadCaptured: 0, hasOptions: false, headerTruncated: false,
    opts: { mss: -1, wscale: -1, sackPerm: false, sackBlocks: 0, sackRight: -1, tsVal: -1, tsEcr: -1 },
  };
}

/** Finds where the IP header starts (an absolute offset in `d`); -1 (status set) if the frame is not IP. */
function linkOffset(d: Buffer, s: number, end: number, linktype: number, out: DecodedPacket): number {
  const len = end - s;
  switch (linktype) {
    case LINKTYPE.ETHERNET: {
      if (len < 14) return fail(out, 'truncated');
      let off = s + 12;
      let type = u16(d, off);
      while (type === 0x8100 || type === 0x88a8 || type === 0x9100) {
        off += 4;
        if (end < off + 2) return fail(out, 'truncated');
        type = u16(d, off);
      }
      return type === 0x0800 || type === 0x86dd ? off + 2 : fail(out, 'not-ip');
    }
    case LINKTYPE.LINUX_SLL: {
      if (len < 16) return fail(out, 'truncated');
      const type = u16(d, s + 14);
      return type === 0x0800 || type === 0x86dd ? s + 16 : fail(out, 'not-ip');
    }
    case LINKTYPE.LINUX_SLL2: {
      if (len < 20) return fail(out, 'truncated');
      const type = u16(d, s);
      return type === 0x0800 || type === 0x86dd ? s + 20 : fail(out, 'not-ip');
    }
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      if (len < 4) return fail(out, 'truncated');
      // NULL: host byte order of the capturing machine; LOOP: network order. Accept either.
      const le = d.readUInt32LE(s);
      const be = u32(d, s);
      const fam = linktype === LINKTYPE.LOOP ? be : le < 256 ? le : be;
      return fam === 2 || fam === 24 || fam === 28 || fam === 30 ? s + 4 : fail(out, 'not-ip');
    }
    case LINKTYPE.RAW:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
    case 12: // DLT_RAW on some BSDs
    case 14:
      return s;
    default:
      return fail(out, 'unsupported-link');
  }
}

// Byte reads without Buffer's bounds-checking wrappers (callers check lengths first).
const u16 = (d: Buffer, i: number): number => (d[i]! << 8) | d[i + 1]!;
const u32 = (d: Buffer, i: number): number => ((d[i]! << 24) | (d[i + 1]! << 16) | (d[i + 2]! << 8) | d[i + 3]!) >>> 0;

function fail(out: DecodedPacket, status: DecodeStatus): -1 {
  out.status = status;
  return -1;
}

/** RFC 5952 text form: lowercase, leading zeros dropped, the longest run of zero groups as "::". */
export function ipv6String(d: Buffer, o: number): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(d.readUInt16BE(o + i));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/**
 * Decodes one captured frame, the bytes d[start, end), into `out`. Offsets in `out` are absolute
 * positions in `d` (the reader's block buffer), so no view is allocated per packet.
 */
export function decodePacket(d: Buffer, linktype: number, out: DecodedPacket, start = 0, end = d.length): DecodeStatus {
  out.status = 'ok';
  out.ipFragment = false;
  out.hasOptions = false;
  out.headerTruncated = false;
  const ip = linkOffset(d, start, end, linktype, out);
  if (ip < 0) return out.status;
  if (end < ip + 1) return (fail(out, 'truncated'), out.status);
  const version = d[ip]! >> 4;
  let tcp: number;
  let ipEnd: number; // end of the IP payload by the IP length (may exceed the captured bytes)
  if (version === 4) {
    if (end < ip + 20) return (fail(out, 'truncated'), out.status);
    const ihl = (d[ip]! & 0x0f) * 4;
    if (ihl < 20) return (fail(out, 'malformed'), out.status);
    const total = u16(d, ip + 2);
    const fragField = u16(d, ip + 6);
    out.ipVersion = 4;
    out.src4 = u32(d, ip + 12);
    out.dst4 = u32(d, ip + 16);
    if ((fragField & 0x1fff) !== 0) { out.ipFragment = true; return (fail(out, 'fragment'), out.status); }
    if (fragField & 0x2000) out.ipFragment = true;
    if (d[ip + 9] !== 6) return (fail(out, 'not-tcp'), out.status);
    tcp = ip + ihl;
    ipEnd = total === 0 ? end : ip + total;
    if (total !== 0 && total < ihl) return (fail(out, 'malformed'), out.status);
  } else if (version === 6) {
    if (end < ip + 40) return (fail(out, 'truncated'), out.status);
    const plen = u16(d, ip + 4);
    let next = d[ip + 6]!;
    out.ipVersion = 6;
    out.src6 = ipv6String(d, ip + 8);
    out.dst6 = ipv6String(d, ip + 24);
    let p = ip + 40;
    ipEnd = plen === 0 ? end : p + plen;
    // extension headers
    for (;;) {
      if (next === 6) break;
      if (next === 0 || next === 43 || next === 60 || next === 51 || next === 44) {
        if (end < p + 8) return (fail(out, 'truncated'), out.status);
        if (next === 44) {
          const fragOff = u16(d, p + 2) >> 3;
          out.ipFragment = true;
          if (fragOff !== 0) return (fail(out, 'fragment'), out.status);
          next = d[p]!;
          p += 8;
          continue;
        }
        const len = next === 51 ? (d[p + 1]! + 2) * 4 : (d[p + 1]! + 1) * 8;
        next = d[p]!;
        p += len;
        continue;
      }
      return (fail(out, 'not-tcp'), out.status);
    }
    tcp = p;
  } else {
    return (fail(out, 'not-ip'), out.status);
  }
  if (end < tcp + 20) return (fail(out, 'truncated'), out.status);
  out.sport = u16(d, tcp);
  out.dport = u16(d, tcp + 2);
  out.seq = u32(d, tcp + 4);
  out.ack = u32(d, tcp + 8);
  const hl = (d[tcp + 12]! >> 4) * 4;
  out.flags = d[tcp + 13]!;
  out.window = u16(d, tcp + 14);
  if (hl < 20) return (fail(out, 'malformed'), out.status);
  out.tcpHeaderLen = hl;
  out.seglen = Math.max(0, ipEnd - tcp - hl);
  out.payloadOffset = tcp + hl;
  out.payloadCaptured = Math.max(0, Math.min(end, ipEnd) - (tcp + hl));
  const o = out.opts;
  o.mss = -1; o.wscale = -1; o.sackPerm = false; o.sackBlocks = 0; o.sackRight = -1; o.tsVal = -1; o.tsEcr = -1;
  if (hl > 20) {
    out.hasOptions = true;
    const optEnd = Math.min(tcp + hl, end);
    let p = tcp + 20;
    while (p < optEnd) {
      const kind = d[p]!;
      if (kind === 0) break;
      if (kind === 1) { p++; continue; }
      if (p + 1 >= optEnd) break;
      const len = d[p + 1]!;
      if (len < 2 || p + len > optEnd) break;
      if (kind === 2 && len === 4) o.mss = u16(d, p + 2);
      else if (kind === 3 && len === 3) o.wscale = d[p + 2]!;
      else if (kind === 4) o.sackPerm = true;
      else if (kind === 5) {
        o.sackBlocks = Math.floor((len - 2) / 8);
        for (let k = 0; k < o.sackBlocks; k++) {
          const re = u32(d, p + 2 + k * 8 + 4);
          if (o.sackRight < 0 || ((re - o.sackRight) | 0) > 0) o.sackRight = re;
        }
      }
      else if (kind === 8 && len === 10) { o.tsVal = u32(d, p + 2); o.tsEcr = u32(d, p + 6); }
      p += len;
    }
    if (tcp + hl > end) out.headerTruncated = true;
  }
  return out.status;
}

export function ipv4String(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}
