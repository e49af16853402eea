/**
 * Decodes link, IP and TCP headers from a captured frame into one reused record (after gopacket's
 * DecodingLayerParser and etherparse's slices): fields are read from the frame in place and nothing
 * is allocated per packet but the address strings of a new connection.
 *
 * Rules (Wireshark's, epan/dissectors):
 * - IP payload is trimmed to the IP length (Ethernet padding is never payload). An IP length beyond
 *   the frame's original length is bounded by it, as dissect_ip_v4() does ("IPv4 total length
 *   exceeds packet length") and dissect_ipv6() ("payload length exceeds framing length"); an IPv4
 *   total length of 0 (TSO, BIG TCP) means the whole frame.
 * - A snaplen-truncated frame is decoded as far as it goes: headers that are complete count; the
 *   TCP payload length comes from the IP length (within the original length), not from what was
 *   captured.
 * - Encapsulations are followed to the innermost IP: 802.1Q/QinQ tags, MPLS label stacks
 *   (dissect_mpls(): the payload after the bottom of stack by its first nibble), PPPoE sessions,
 *   GRE (dissect_gre(): optional checksum, key and sequence fields), IP-in-IP and 6in4, VXLAN (UDP
 *   4789) and Geneve (UDP 6081) carrying Ethernet, and the link types of IP over InfiniBand and FDDI.
 *   What is not decoded is reported with its type in `unknownType`.
 */

export const LINKTYPE = {
  NULL: 0, ETHERNET: 1, FDDI: 10, RAW: 101, LOOP: 108, LINUX_SLL: 113, IPV4: 228, IPV6: 229, IPOIB: 242, LINUX_SLL2: 276,
} as const;

/** How many tunnels deep the decoder follows (a crafted frame could nest them without end). */
const MAX_ENCAPSULATIONS = 8;

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
  /** The SACK blocks' edges as sent (left, right, … for the first `sackBlocks`, at most 4). */
  sack: Float64Array;
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
  /** With status not-ip or unsupported-link: the ethertype, or the link type, that is not decoded. */
  unknownType: number;
  /** Tunnels and tags passed on the way to the TCP header (0: plain). */
  encapsulations: number;
}

export function newDecodedPacket(): DecodedPacket {
  return {
    status: 'ok', time: 0, ipVersion: 4, src4: 0, dst4: 0, src6: '', dst6: '', ipFragment: false,
    sport: 0, dport: 0, seq: 0, ack: 0, flags: 0, window: 0, tcpHeaderLen: 0, seglen: 0,
    payloadOffset: 0, payloadCaptured: 0, hasOptions: false, headerTruncated: false, unknownType: -1, encapsulations: 0,
    opts: { mss: -1, wscale: -1, sackPerm: false, sackBlocks: 0, sackRight: -1, sack: new Float64Array(8), tsVal: -1, tsEcr: -1 },
  };
}

/** Finds where the IP header starts (an absolute offset in `d`); -1 (status set) if the frame is not IP. */
function linkOffset(d: Buffer, s: number, end: number, linktype: number, out: DecodedPacket): number {
  const len = end - s;
  switch (linktype) {
    case LINKTYPE.ETHERNET:
      return ethernet(d, s, end, out);
    case LINKTYPE.LINUX_SLL: {
      if (len < 16) return fail(out, 'truncated');
      return etherType(d, s + 16, end, u16(d, s + 14), out);
    }
    case LINKTYPE.LINUX_SLL2: {
      if (len < 20) return fail(out, 'truncated');
      return etherType(d, s + 20, end, u16(d, s), out);
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
    case LINKTYPE.IPOIB: {
      // dissect_ipoib() for LINKTYPE_IPOIB (WTAP_ENCAP_IP_OVER_IB_PCAP): a 40-byte pseudo-header
      // (the GRH, or the destination address), a 2-byte ethertype, 2 reserved bytes, the datagram
      if (len < 44) return fail(out, 'truncated');
      return etherType(d, s + 44, end, u16(d, s + 40), out);
    }
    case LINKTYPE.FDDI: {
      // packet-fddi.c: frame control, destination and source (13 bytes), then 802.2 LLC; IP
      // comes in a SNAP header (AA AA 03, OUI, ethertype)
      if (len < 21) return fail(out, 'truncated');
      if (d[s + 13] !== 0xaa || d[s + 14] !== 0xaa || d[s + 15] !== 0x03) return fail(out, 'not-ip');
      return etherType(d, s + 21, end, u16(d, s + 19), out);
    }
    default:
      out.unknownType = linktype;
      return fail(out, 'unsupported-link');
  }
}

/** An Ethernet frame at `s`: the destination and source, then an ethertype (after any tags). */
function ethernet(d: Buffer, s: number, end: number, out: DecodedPacket): number {
  if (end - s < 14) return fail(out, 'truncated');
  return etherType(d, s + 14, end, u16(d, s + 12), out);
}

/** The payload at `off` of an ethertype `type`, followed through tags, MPLS and PPPoE to the IP header. */
function etherType(d: Buffer, off: number, end: number, type: number, out: DecodedPacket): number {
  for (let depth = 0; depth < MAX_ENCAPSULATIONS; depth++) {
    switch (type) {
      case 0x0800:
      case 0x86dd:
        return off;
      case 0x8100: // 802.1Q
      case 0x88a8: // 802.1ad (QinQ)
      case 0x9100:
        if (end < off + 4) return fail(out, 'truncated');
        type = u16(d, off + 2);
        off += 4;
        out.encapsulations++;
        continue;
      case 0x8847: // MPLS unicast
      case 0x8848: { // MPLS multicast
        // the label stack ends at the entry with the bottom-of-stack bit
        for (;;) {
          if (end < off + 4) return fail(out, 'truncated');
          const bos = d[off + 2]! & 0x01;
          off += 4;
          if (bos) break;
        }
        out.encapsulations++;
        if (end < off + 1) return fail(out, 'truncated');
        const nibble = d[off]! >> 4;
        if (nibble === 4 || nibble === 6) return off;
        // a pseudowire control word (first nibble 0), then Ethernet
        if (nibble === 0) return ethernet(d, off + 4, end, out);
        return fail(out, 'not-ip');
      }
      case 0x8864: { // PPPoE session: 6-byte header, then a PPP protocol number
        if (end < off + 8) return fail(out, 'truncated');
        const ppp = u16(d, off + 6);
        off += 8;
        out.encapsulations++;
        if (ppp === 0x0021) return off;
        if (ppp === 0x0057) return off;
        out.unknownType = type;
        return fail(out, 'not-ip');
      }
      case 0x6558: // transparent Ethernet bridging (GRE, Geneve)
        out.encapsulations++;
        return ethernet(d, off, end, out);
      default:
        out.unknownType = type;
        return fail(out, 'not-ip');
    }
  }
  return fail(out, 'malformed');
}

// Byte reads without Buffer's bounds-checking wrappers (callers check lengths first).
const u16 = (d: Buffer, i: number): number => (d[i]! << 8) | d[i + 1]!;
const u32 = (d: Buffer, i: number): number => ((d[i]! << 24) | (d[i + 1]! << 16) | (d[i + 2]! << 8) | d[i + 3]!) >>> 0;

function fail(out: DecodedPacket, status: DecodeStatus): -1 {
  out.status = status;
  return -1;
}

/**
 * The inner IP header of a tunnel whose outer IP protocol is `proto` and payload starts at `p`;
 * -2 when the payload is no tunnel (plain UDP, ICMP...), -1 with the status set when it cannot be
 * followed.
 */
function tunnelInner(d: Buffer, p: number, end: number, proto: number, out: DecodedPacket): number {
  switch (proto) {
    case 4: // IP-in-IP
    case 41: // IPv6 in IPv4 (6in4) or IPv6
      return p;
    case 47: { // GRE (RFC 2784, 2890): flags and version, protocol type, then optional fields
      if (end < p + 4) return fail(out, 'truncated');
      const flags = u16(d, p);
      if ((flags & 0x7) !== 0) return fail(out, 'not-ip'); // version 1 is PPTP's enhanced GRE
      const type = u16(d, p + 2);
      const opt = ((flags & 0x8000) || (flags & 0x4000) ? 4 : 0) + (flags & 0x2000 ? 4 : 0) + (flags & 0x1000 ? 4 : 0);
      return etherType(d, p + 4 + opt, end, type, out);
    }
    case 17: { // UDP carrying VXLAN (4789) or Geneve (6081)
      if (end < p + 8) return fail(out, 'truncated');
      const dport = u16(d, p + 2);
      const u = p + 8;
      if (dport === 4789) {
        if (end < u + 8) return fail(out, 'truncated');
        return ethernet(d, u + 8, end, out);
      }
      if (dport === 6081) {
        if (end < u + 8) return fail(out, 'truncated');
        const optLen = (d[u]! & 0x3f) * 4;
        return etherType(d, u + 8 + optLen, end, u16(d, u + 2), out);
      }
      return -2;
    }
    default:
      return -2;
  }
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
 * positions in `d` (the reader's block buffer), so no view is allocated per packet. `origEnd` is
 * where the frame ended on the wire (start + original length; at least `end`).
 */
export function decodePacket(d: Buffer, linktype: number, out: DecodedPacket, start = 0, end = d.length, origEnd = end): DecodeStatus {
  out.status = 'ok';
  out.ipFragment = false;
  out.hasOptions = false;
  out.headerTruncated = false;
  out.unknownType = -1;
  out.encapsulations = 0;
  let ip = linkOffset(d, start, end, linktype, out);
  if (ip < 0) return out.status;
  let tcp = -1;
  // end of the IP payload by the IP length, within the frame's original length (may exceed the captured bytes)
  let ipEnd = Math.max(end, origEnd);
  for (let depth = 0; tcp < 0; depth++) {
    if (depth >= MAX_ENCAPSULATIONS) return (fail(out, 'malformed'), out.status);
    if (end < ip + 1) return (fail(out, 'truncated'), out.status);
    const version = d[ip]! >> 4;
    let proto: number;
    let next: number; // where the IP payload starts
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
      if (total !== 0 && total < ihl) return (fail(out, 'malformed'), out.status);
      proto = d[ip + 9]!;
      next = ip + ihl;
      if (total !== 0) ipEnd = Math.min(ipEnd, ip + total);
    } else if (version === 6) {
      if (end < ip + 40) return (fail(out, 'truncated'), out.status);
      const plen = u16(d, ip + 4);
      proto = d[ip + 6]!;
      out.ipVersion = 6;
      out.src6 = ipv6String(d, ip + 8);
      out.dst6 = ipv6String(d, ip + 24);
      let p = ip + 40;
      if (plen !== 0) ipEnd = Math.min(ipEnd, p + plen);
      // extension headers
      while (proto === 0 || proto === 43 || proto === 60 || proto === 51 || proto === 44) {
        if (end < p + 8) return (fail(out, 'truncated'), out.status);
        if (proto === 44) {
          const fragOff = u16(d, p + 2) >> 3;
          out.ipFragment = true;
          if (fragOff !== 0) return (fail(out, 'fragment'), out.status);
          proto = d[p]!;
          p += 8;
          continue;
        }
        const len = proto === 51 ? (d[p + 1]! + 2) * 4 : (d[p + 1]! + 1) * 8;
        proto = d[p]!;
        p += len;
      }
      next = p;
    } else {
      return (fail(out, 'not-ip'), out.status);
    }
    if (proto === 6) { tcp = next; break; }
    // a tunnel: the next IP header is inside this one's payload
    const inner = tunnelInner(d, next, end, proto, out);
    if (inner === -2) return (fail(out, 'not-tcp'), out.status);
    if (inner < 0) return out.status;
    out.encapsulations++;
    ip = inner;
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
        o.sackBlocks = Math.min(4, Math.floor((len - 2) / 8));
        for (let k = 0; k < o.sackBlocks; k++) {
          const re = u32(d, p + 2 + k * 8 + 4);
          o.sack[2 * k] = u32(d, p + 2 + k * 8);
          o.sack[2 * k + 1] = re;
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
