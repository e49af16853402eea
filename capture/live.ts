/**
 * Live capture from Node with `cap` (libpcap bindings), for machines without Docker: the local
 * runtime of the lab and `audiolab capture`. Writes a classic pcap file.
 *
 * What `cap` can and cannot do (see its src/binding.cc): it hands over each packet's bytes but not
 * libpcap's timestamp nor the original length. So packets are timestamped on arrival in Node
 * (microseconds, slightly later than the kernel's stamp) and the buffer is large enough (256 KiB)
 * that no packet is cut. The Docker lab captures with tcpdump, which records kernel timestamps.
 * `cap` cannot read capture files; the analysis has its own reader for that.
 */
import { createRequire } from 'node:module';
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { AudioLabError } from '../services/protocol/errors.ts';
import { PCAP_LINKTYPE, pcapFileHeader, pcapRecordHeader } from './pcap-writer.ts';

interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): void;
  setMinBytes?(n: number): void;
  on(event: 'packet', fn: (nbytes: number, truncated: boolean) => void): void;
}

const require = createRequire(import.meta.url);

function loadCap(): { Cap: new () => CapHandle; deviceList: () => Array<{ name: string }> } {
  try {
    return require('cap') as { Cap: new () => CapHandle; deviceList: () => Array<{ name: string }> };
  } catch (err) {
    throw new AudioLabError('AUDIOLAB_ERR_CAPTURE_UNAVAILABLE', `Live capture needs the optional 'cap' module (libpcap headers to build it): ${(err as Error).message}`);
  }
}

/**
 * cap opens the device with a 65535-byte snapshot length and does not report the original length,
 * but loopback segments can be longer (MTU 65536). The IP header knows the real length: record it,
 * so readers see a truncated frame instead of a short one.
 */
function originalLength(b: Buffer, caplen: number, linktype: number): number {
  if (linktype !== 1 || caplen < 14 + 40) return caplen;
  const type = b.readUInt16BE(12);
  if (type === 0x0800) return Math.max(caplen, 14 + b.readUInt16BE(16));
  if (type === 0x86dd) return Math.max(caplen, 14 + 40 + b.readUInt16BE(18));
  return caplen;
}

export interface LiveCaptureStats { packets: number; bytes: number }

export class LiveCapture {
  readonly iface: string;
  readonly filter: string;
  readonly out: string;
  private cap: CapHandle | undefined;
  private file: WriteStream | undefined;
  private readonly buffer = Buffer.alloc(256 * 1024);
  readonly stats: LiveCaptureStats = { packets: 0, bytes: 0 };
  linktype = -1;
  onPacket: ((stats: LiveCaptureStats) => void) | undefined;

  constructor(iface: string, filter: string, out: string) {
    this.iface = iface;
    this.filter = filter;
    this.out = out;
  }

  /** Opens the interface and writes the file header; resolves once packets are being captured. */
  async start(): Promise<void> {
    const { Cap, deviceList } = loadCap();
    const cap = new Cap();
    let link: string;
    try {
      link = cap.open(this.iface, this.filter, 64 * 1024 * 1024, this.buffer);
    } catch (err) {
      const names = deviceList().map((d) => d.name).join(', ');
      throw new AudioLabError('AUDIOLAB_ERR_CAPTURE_UNAVAILABLE', `Cannot capture on ${this.iface} with filter ${JSON.stringify(this.filter)}: ${(err as Error).message} (interfaces: ${names})`);
    }
    const linktype = PCAP_LINKTYPE[link];
    if (linktype === undefined) {
      cap.close();
      throw new AudioLabError('AUDIOLAB_ERR_LINKTYPE', `Unsupported link type on ${this.iface}: ${link}`);
    }
    this.linktype = linktype;
    cap.setMinBytes?.(0);
    const file = createWriteStream(this.out);
    await once(file, 'open');
    file.write(pcapFileHeader(linktype, this.buffer.length));
    // wall clock at start + the monotonic clock since: microsecond stamps that never go backwards
    const wall0 = BigInt(Date.now()) * 1000n;
    const hr0 = process.hrtime.bigint();
    cap.on('packet', (nbytes) => {
      const now = Number(wall0 + (process.hrtime.bigint() - hr0) / 1000n);
      const orig = originalLength(this.buffer, nbytes, linktype);
      file.write(Buffer.concat([pcapRecordHeader(Math.floor(now / 1e6), now % 1e6, nbytes, orig), this.buffer.subarray(0, nbytes)]));
      this.stats.packets++;
      this.stats.bytes += nbytes;
      this.onPacket?.(this.stats);
    });
    this.cap = cap;
    this.file = file;
  }

  /** Stops capturing and closes the file (complete and valid). */
  async stop(): Promise<LiveCaptureStats> {
    // let packets already in libpcap's buffer arrive
    await new Promise((r) => setTimeout(r, 300));
    this.cap?.close();
    this.cap = undefined;
    const f = this.file;
    this.file = undefined;
    if (f) {
      f.end();
      await once(f, 'finish');
    }
    return this.stats;
  }
}
