/**
 * Streaming capture reader: classic pcap (µs and ns magic, both byte orders) and pcapng (sections,
 * interfaces with if_tsresol/if_tsoffset, EPB/SPB/OPB; other blocks skipped), detected by magic.
 *
 * Why our own reader: `pcap-parser` reads only classic microsecond pcap, and no maintained npm
 * package reads pcapng (tcpdump -i any and Wireshark write pcapng or nanosecond pcap). `pcap-parser`
 * serves as an independent oracle in the tests.
 *
 * The file is read in blocks into one buffer; each packet is handed to `onPacket` as a view into
 * that buffer (valid only during the call). Memory is one block, whatever the file size.
 * A truncated last record ends the read as `partial` with its offset; corrupt structure throws a
 * coded error with the byte offset, after the packets before it were delivered.
 */
import { AudioLabError } from '../../services/protocol/errors.ts';

// not an ES import, which would evaluate every export of node:fs on the analyze path (docs/analysis.md, Speed)
const { closeSync, fstatSync, openSync, readSync } = process.getBuiltinModule('node:fs');

/**
 * One packet, valid only during the callback (the object and its buffer are reused). The bytes are
 * buf[offset, offset + caplen); `data` makes a view of them on demand.
 */
export class RawPacket {
  /** 1-based frame number, as Wireshark counts. */
  index = 0;
  /** Timestamp: whole seconds and nanoseconds. */
  sec = 0;
  nsec = 0;
  linktype = 0;
  caplen = 0;
  origlen = 0;
  buf: Buffer = Buffer.alloc(0);
  offset = 0;
  /** Byte offset of the record in the file. */
  fileOffset = 0;

  /** Points this record at buf[offset, offset + caplen) and counts it. */
  set(index: number, buf: Buffer, offset: number, caplen: number, origlen: number, fileOffset: number): void {
    this.index = index;
    this.buf = buf;
    this.offset = offset;
    this.caplen = caplen;
    this.origlen = origlen;
    this.fileOffset = fileOffset;
  }

  get data(): Buffer {
    return this.buf.subarray(this.offset, this.offset + this.caplen);
  }
}

export interface ReadSummary {
  format: 'pcap' | 'pcap-ns' | 'pcapng';
  byteOrder: 'LE' | 'BE';
  packets: number;
  fileBytes: number;
  linktypes: number[];
  /** The file ended inside a record: everything before was read. */
  partial: boolean;
  warnings: Array<{ offset: number; message: string }>;
}

export interface ReadOptions {
  blockSize?: number;
  /** `total` is 0 when the size is unknown (a pipe or standard input): `packets` counts instead. */
  onProgress?: (bytesRead: number, total: number, packets: number) => void;
  /** Largest record accepted before the file is called corrupt. */
  maxRecord?: number;
}

const NOT_SWAPPED = 0;
const SWAPPED = 1;
const MAYBE_SWAPPED = 2;

const PCAP_US = 0xa1b2c3d4;
const PCAP_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const BOM = 0x1a2b3c4d;

/**
 * A sliding window over the file: ensure(n) makes n bytes from `pos` available in `buf`. A pipe, a
 * FIFO or standard input (`-`) is read the same way, forward only, its size known at its end.
 */
class FileWindow {
  private readonly fd: number;
  /** Bytes in the file; for a stream, Infinity until its end is read. */
  size: number;
  /** Not a regular file: read forward, without positions. */
  readonly stream: boolean;
  private readonly ownFd: boolean;
  buf: Buffer;
  /** File offset of buf[0]. */
  base = 0;
  /** Valid bytes in buf. */
  len = 0;
  /** Packets read so far (for progress on a stream of unknown size). */
  packets = 0;
  private readonly onProgress: ((n: number, total: number, packets: number) => void) | undefined;

  constructor(path: string, blockSize: number, onProgress?: (n: number, total: number, packets: number) => void) {
    this.ownFd = path !== '-';
    try {
      this.fd = path === '-' ? 0 : openSync(path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new AudioLabError('AUDIOLAB_ERR_CAPTURE_FORMAT', code === 'ENOENT' ? `There is no file ${path}: check the path` : `Cannot open ${path}: ${(err as Error).message}`);
    }
    const st = fstatSync(this.fd);
    if (st.isDirectory()) {
      this.close();
      throw new AudioLabError('AUDIOLAB_ERR_CAPTURE_FORMAT', `${path} is a folder: name a capture file in it (a .pcap or .pcapng)`);
    }
    this.stream = !st.isFile();
    this.size = this.stream ? Infinity : st.size;
    this.buf = Buffer.allocUnsafe(blockSize);
    this.onProgress = onProgress;
  }

  /** Whether the file has a byte at `pos` (reading a stream to find out). */
  more(pos: number): boolean {
    return pos < this.size && (!this.stream || this.ensure(pos, 1));
  }

  /** Bytes left from `pos` (for messages; a stream's are counted once its end is read). */
  left(pos: number): number {
    return Number.isFinite(this.size) ? this.size - pos : this.base + this.len - pos;
  }

  /** Makes bytes [pos, pos+n) available; returns false if the file ends first. */
  ensure(pos: number, n: number): boolean {
    if (pos >= this.base && pos + n <= this.base + this.len) return true;
    if (pos + n > this.size) return false;
    // keep the bytes from pos that are here already (a stream cannot read them again)
    const keep = pos >= this.base && pos < this.base + this.len ? this.base + this.len - pos : 0;
    const target = n > this.buf.length ? Buffer.allocUnsafe(Math.max(n, this.buf.length * 2)) : this.buf;
    if (keep > 0) this.buf.copy(target, 0, pos - this.base, this.base + this.len);
    if (this.stream && keep === 0 && pos > this.base + this.len) this.skip(pos - (this.base + this.len));
    this.buf = target;
    this.base = pos;
    this.len = keep;
    while (this.len < this.buf.length && this.base + this.len < this.size) {
      const r = readSync(this.fd, this.buf, this.len, this.buf.length - this.len, this.stream ? null : this.base + this.len);
      if (r === 0) {
        if (this.stream) this.size = this.base + this.len;
        break;
      }
      this.len += r;
      if (this.stream && this.len >= n) break; // a pipe gives what it has: do not wait for a whole block
    }
    this.onProgress?.(this.base + this.len, Number.isFinite(this.size) && !this.stream ? this.size : 0, this.packets);
    return pos + n <= this.base + this.len;
  }

  /** Reads and drops `n` bytes of a stream. */
  private skip(n: number): void {
    const scratch = Buffer.allocUnsafe(Math.min(n, 1 << 16));
    while (n > 0) {
      const r = readSync(this.fd, scratch, 0, Math.min(n, scratch.length), null);
      if (r === 0) { this.size = this.base + this.len; return; }
      n -= r;
      this.len += r;
    }
  }

  close(): void {
    if (this.ownFd) closeSync(this.fd);
  }
}

/** The input as a message names it: `-` is standard input. */
const shown = (path: string): string => (path === '-' ? 'standard input' : path);

export function readCapture(path: string, onPacket: (p: RawPacket) => void, options: ReadOptions = {}): ReadSummary {
  const w = new FileWindow(path, options.blockSize ?? 1024 * 1024, options.onProgress);
  try {
    if (!w.ensure(0, 4)) {
      throw new AudioLabError('AUDIOLAB_ERR_CAPTURE_TRUNCATED', `${shown(path)}: ${w.left(0)} bytes is too short to be a capture (offset 0)`, { offset: 0 });
    }
    const m = w.buf.readUInt32LE(0);
    const mb = w.buf.readUInt32BE(0);
    if (m === PCAP_US || m === PCAP_NS || mb === PCAP_US || mb === PCAP_NS) return readPcap(w, onPacket, options);
    if (m === PCAPNG_SHB) return readPcapng(w, onPacket, options);
    throw new AudioLabError('AUDIOLAB_ERR_CAPTURE_FORMAT', `${shown(path)} is not a pcap or pcapng capture (magic 0x${w.buf.subarray(0, 4).toString('hex')} at offset 0)`, { offset: 0 });
  } finally {
    w.close();
  }
}

function readPcap(w: FileWindow, onPacket: (p: RawPacket) => void, options: ReadOptions): ReadSummary {
  if (!w.ensure(0, 24)) throw new AudioLabError('AUDIOLAB_ERR_CAPTURE_TRUNCATED', `pcap file header truncated: ${w.left(0)} of 24 bytes (offset 0)`, { offset: 0 });
  const le = w.buf.readUInt32LE(0) === PCAP_US || w.buf.readUInt32LE(0) === PCAP_NS;
  const magic = le ? w.buf.readUInt32LE(0) : w.buf.readUInt32BE(0);
  const ns = magic === PCAP_NS;
  const u32 = (o: number): number => rd32(w.buf, o, le);
  const snaplen = u32(16);
  const linktype = u32(20) & 0x0fffffff;
  const major = le ? w.buf.readUInt16LE(4) : w.buf.readUInt16BE(4);
  const minor = le ? w.buf.readUInt16LE(6) : w.buf.readUInt16BE(6);
  // wiretap's libpcap_open(): before version 2.3 (and in DG/UX's 543.0) a record gives its original
  // length before its captured one; 2.3 files were written both ways, so there the two are swapped
  // when the captured length would exceed the original (libpcap_read_header()'s MAYBE_SWAPPED)
  const swap = (major === 2 && minor < 3) || major === 543 ? SWAPPED : major === 2 && minor === 3 ? MAYBE_SWAPPED : NOT_SWAPPED;
  const maxRecord = options.maxRecord ?? Math.max(262144, snaplen);
  const summary: ReadSummary = { format: ns ? 'pcap-ns' : 'pcap', byteOrder: le ? 'LE' : 'BE', packets: 0, fileBytes: w.size, linktypes: [linktype], partial: false, warnings: [] };
  const pkt = new RawPacket();
  pkt.linktype = linktype;
  let pos = 24;
  // The record headers are read through a DataView (a single machine load in V8's optimizing
  // tiers, in either byte order), and the window is asked to slide only when a record crosses its end.
  let dv = viewOf(w.buf);
  const usMul = ns ? 1 : 1000;
  while (w.more(pos)) {
    let o = pos - w.base;
    if (o + 16 > w.len) {
      if (!w.ensure(pos, 16)) {
        summary.partial = true;
        summary.warnings.push({ offset: pos, message: `record header truncated (${w.left(pos)} of 16 bytes)` });
        break;
      }
      if (dv.buffer !== w.buf.buffer) dv = viewOf(w.buf);
      o = pos - w.base;
    }
    let caplen = dv.getUint32(o + 8, le);
    let origlen = dv.getUint32(o + 12, le);
    if (swap === SWAPPED || (swap === MAYBE_SWAPPED && caplen > origlen)) [caplen, origlen] = [origlen, caplen];
    if (caplen > maxRecord) {
      throw new AudioLabError('AUDIOLAB_ERR_CAPTURE_CORRUPT', `record ${summary.packets + 1} at offset ${pos} claims ${caplen} captured bytes (more than ${maxRecord})`, { offset: pos, packets: summary.packets });
    }
    if (o + 16 + caplen > w.len) {
      if (!w.ensure(pos, 16 + caplen)) {
        summary.partial = true;
        summary.warnings.push({ offset: pos, message: `record ${summary.packets + 1} truncated (${w.left(pos) - 16} of ${caplen} bytes)` });
        break;
      }
      if (dv.buffer !== w.buf.buffer) dv = viewOf(w.buf);
      o = pos - w.base;
    }
    pkt.sec = dv.getUint32(o, le);
    pkt.nsec = dv.getUint32(o + 4, le) * usMul;
    pkt.set(w.packets = ++summary.packets, w.buf, o + 16, caplen, origlen, pos);
    onPacket(pkt);
    pos += 16 + caplen;
  }
  summary.fileBytes = w.left(0);
  return summary;
}

function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A 32-bit unsigned integer in either byte order (without Buffer's bounds-checking wrappers: callers ensure the bytes). */
function rd32(d: Buffer, o: number, le: boolean): number {
  return le
    ? (d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24)) >>> 0
    : ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;
}

interface Iface { linktype: number; snaplen: number; tsDiv: number; tsMul: number; tsOffset: number }

function readPcapng(w: FileWindow, onPacket: (p: RawPacket) => void, options: ReadOptions): ReadSummary {
  const summary: ReadSummary = { format: 'pcapng', byteOrder: 'LE', packets: 0, fileBytes: w.size, linktypes: [], partial: false, warnings: [] };
  const maxRecord = options.maxRecord ?? 16 * 1024 * 1024;
  let le = true;
  let ifaces: Iface[] = [];
  const pkt = new RawPacket();
  let pos = 0;
  let sawSection = false;
  const u32 = (o: number): number => rd32(w.buf, o, le);
  const u16 = (o: number): number => (le ? w.buf.readUInt16LE(o) : w.buf.readUInt16BE(o));
  while (w.more(pos)) {
    if (!w.ensure(pos, 12)) {
      summary.partial = true;
      summary.warnings.push({ offset: pos, message: `block header truncated (${w.left(pos)} bytes left)` });
      break;
    }
    let o = pos - w.base;
    const typeLE = w.buf.readUInt32LE(o);
    if (typeLE === PCAPNG_SHB) {
      const bom = w.buf.readUInt32LE(o + 8);
      if (bom === BOM) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else throw new AudioLabError('AUDIOLAB_ERR_CAPTURE_CORRUPT', `section header at offset ${pos} has a bad byte-order magic`, { offset: pos });
      if (le !== true) summary.byteOrder = 'BE';
      ifaces = [];
      sawSection = true;
    } else if (!sawSection) {
      throw new AudioLabError('AUDIOLAB_ERR_CAPTURE_FORMAT', 'pcapng file does not start with a section header', { offset: 0 });
    }
    const type = u32(o);
    const len = u32(o + 4);
    if (len < 12 || len % 4 !== 0 || len > maxRecord) {
      throw new AudioLabError('AUDIOLAB_ERR_CAPTURE_CORRUPT', `block at offset ${pos} has an impossible length ${len}`, { offset: pos, packets: summary.packets });
    }
    if (!w.ensure(pos, len)) {
      summary.partial = true;
      summary.warnings.push({ offset: pos, message: `block of ${len} bytes truncated (${w.left(pos)} bytes left)` });
      break;
    }
    o = pos - w.base;
    if (u32(o + len - 4) !== len) {
      throw new AudioLabError('AUDIOLAB_ERR_CAPTURE_CORRUPT', `block at offset ${pos}: trailing length ${u32(o + len - 4)} differs from ${len}`, { offset: pos, packets: summary.packets });
    }
    switch (type) {
      case 1: { // Interface Description Block
        const iface: Iface = { linktype: u16(o + 8), snaplen: u32(o + 12), tsDiv: 1, tsMul: 1000, tsOffset: 0 };
        // options
        let p = o + 16;
        const end = o + len - 4;
        while (p + 4 <= end) {
          const code = u16(p);
          const olen = u16(p + 2);
          if (code === 0) break;
          if (code === 9 && olen >= 1) { // if_tsresol
            const r = w.buf[p + 4]!;
            const exp = r & 0x7f;
            if (r & 0x80) { // power of 2
              const units = 2 ** exp;
              iface.tsDiv = units;
              iface.tsMul = 1e9;
            } else if (exp <= 9) {
              iface.tsDiv = 1;
              iface.tsMul = 10 ** (9 - exp);
            } else {
              iface.tsDiv = 10 ** (exp - 9);
              iface.tsMul = 1;
            }
          } else if (code === 14 && olen >= 8) { // if_tsoffset (seconds)
            iface.tsOffset = le ? Number(w.buf.readBigInt64LE(p + 4)) : Number(w.buf.readBigInt64BE(p + 4));
          }
          p += 4 + olen + ((4 - (olen % 4)) % 4);
        }
        ifaces.push(iface);
        if (!summary.linktypes.includes(iface.linktype)) summary.linktypes.push(iface.linktype);
        break;
      }
      case 6: // Enhanced Packet Block
      case 2: { // Obsolete Packet Block
        const ifId = type === 6 ? u32(o + 8) : u16(o + 8);
        const iface = ifaces[ifId];
        if (!iface) throw new AudioLabError('AUDIOLAB_ERR_CAPTURE_CORRUPT', `packet block at offset ${pos} names interface ${ifId}, which was not described`, { offset: pos });
        const caplen = u32(o + 20);
        if (28 + caplen + 4 > len) throw new AudioLabError('AUDIOLAB_ERR_CAPTURE_CORRUPT', `packet block at offset ${pos}: captured length ${caplen} overruns the block`, { offset: pos });
        deliverTs(pkt, iface, u32(o + 12), u32(o + 16));
        pkt.linktype = iface.linktype;
        pkt.set(w.packets = ++summary.packets, w.buf, o + 28, caplen, u32(o + 24), pos);
        onPacket(pkt);
        break;
      }
      case 3: { // Simple Packet Block: no timestamp, interface 0
        const iface = ifaces[0];
        if (!iface) throw new AudioLabError('AUDIOLAB_ERR_CAPTURE_CORRUPT', `simple packet block at offset ${pos} before any interface`, { offset: pos });
        const origlen = u32(o + 8);
        const caplen = Math.min(origlen, iface.snaplen || origlen, len - 16);
        pkt.sec = 0;
        pkt.nsec = 0;
        pkt.linktype = iface.linktype;
        pkt.set(w.packets = ++summary.packets, w.buf, o + 12, caplen, origlen, pos);
        onPacket(pkt);
        break;
      }
      default:
        break; // SHB, NRB, ISB, DSB, custom and unknown blocks: skipped
    }
    pos += len;
  }
  summary.fileBytes = w.left(0);
  return summary;
}

function deliverTs(pkt: RawPacket, iface: Iface, hi: number, lo: number): void {
  // ticks = hi * 2^32 + lo; exact in float64 up to 2^53 (ns since 1970 needs ~2^61: split carefully)
  if (iface.tsDiv === 1 && iface.tsMul === 1000 && hi < 0x200000) {
    // microseconds, ticks < 2^53 (dates until the year 2255): exact in float64
    const ticks = hi * 4294967296 + lo;
    pkt.sec = Math.floor(ticks / 1e6) + iface.tsOffset;
    pkt.nsec = (ticks % 1e6) * 1000;
    return;
  }
  const ticks = (BigInt(hi) << 32n) | BigInt(lo);
  if (iface.tsMul === 1e9) { // 2^-n resolution
    const div = BigInt(iface.tsDiv);
    pkt.sec = Number(ticks / div) + iface.tsOffset;
    pkt.nsec = Number(((ticks % div) * 1_000_000_000n) / div);
    return;
  }
  const perSec = BigInt(1e9 / iface.tsMul) * BigInt(iface.tsDiv);
  pkt.sec = Number(ticks / perSec) + iface.tsOffset;
  pkt.nsec = Number((ticks % perSec) * BigInt(iface.tsMul) / BigInt(iface.tsDiv));
}
