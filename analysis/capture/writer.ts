/** Classic pcap (microsecond, little-endian) headers: the format every tool reads. */
export const PCAP_LINKTYPE: Record<string, number> = {
  NULL: 0, ETHERNET: 1, RAW: 101, LINKTYPE_LINUX_SLL: 113, IEEE802_11_RADIO: 127,
};

export function pcapFileHeader(linktype: number, snaplen = 262144): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(snaplen, 16);
  h.writeUInt32LE(linktype, 20);
  return h;
}

export function pcapRecordHeader(sec: number, usec: number, caplen: number, origlen: number): Buffer {
  const r = Buffer.allocUnsafe(16);
  r.writeUInt32LE(sec >>> 0, 0);
  r.writeUInt32LE(usec >>> 0, 4);
  r.writeUInt32LE(caplen, 8);
  r.writeUInt32LE(origlen, 12);
  return r;
}
