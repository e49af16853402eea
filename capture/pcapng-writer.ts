/**
 * A pcapng writer (draft-ietf-opsawg-pcapng): one section header, an interface description per
 * link type (nanosecond timestamps: if_tsresol 9), and enhanced packet blocks, each with any number
 * of comments (opt_comment), which plain Wireshark shows and filters on (`frame.comment`). Little
 * endian, written as it goes (memory: one block).
 */
const { closeSync, openSync, writeSync } = process.getBuiltinModule('node:fs');

const pad4 = (n: number): number => (4 - (n % 4)) % 4;

/** One option: code, length, value, padding to 32 bits. */
function option(code: number, value: Buffer): Buffer {
  const b = Buffer.alloc(4 + value.length + pad4(value.length));
  b.writeUInt16LE(code, 0);
  b.writeUInt16LE(value.length, 2);
  value.copy(b, 4);
  return b;
}

const END_OF_OPTIONS = Buffer.alloc(4);

/** A block: type, total length, body, total length again. */
function block(type: number, body: Buffer[]): Buffer {
  const len = 12 + body.reduce((s, b) => s + b.length, 0);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(type, 0);
  head.writeUInt32LE(len, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(len, 0);
  return Buffer.concat([head, ...body, tail]);
}

export class PcapngWriter {
  private readonly fd: number;
  private readonly interfaces = new Map<number, number>();

  constructor(path: string, application = 'tcp-audio-lab') {
    this.fd = openSync(path, 'w');
    const shb = Buffer.alloc(16);
    shb.writeUInt32LE(0x1a2b3c4d, 0); // byte-order magic
    shb.writeUInt16LE(1, 4); // version 1.0
    shb.writeUInt16LE(0, 6);
    shb.writeBigInt64LE(-1n, 8); // section length unknown
    this.write(block(0x0a0d0d0a, [shb, option(4, Buffer.from(application)), END_OF_OPTIONS])); // shb_userappl
  }

  /** The interface for a link type, described before its first packet. */
  private interfaceFor(linktype: number): number {
    let id = this.interfaces.get(linktype);
    if (id === undefined) {
      id = this.interfaces.size;
      this.interfaces.set(linktype, id);
      const idb = Buffer.alloc(8);
      idb.writeUInt16LE(linktype, 0);
      idb.writeUInt32LE(0, 4); // no snap length limit
      this.write(block(1, [idb, option(9, Buffer.from([9])), END_OF_OPTIONS])); // if_tsresol: nanoseconds
    }
    return id;
  }

  /** One packet, with its comments (none: no options). */
  packet(linktype: number, sec: number, nsec: number, data: Buffer, origlen: number, comments: readonly string[] = []): void {
    const iface = this.interfaceFor(linktype);
    const ticks = BigInt(sec) * 1_000_000_000n + BigInt(nsec);
    const head = Buffer.alloc(20);
    head.writeUInt32LE(iface, 0);
    head.writeUInt32LE(Number(ticks >> 32n) >>> 0, 4);
    head.writeUInt32LE(Number(ticks & 0xffffffffn), 8);
    head.writeUInt32LE(data.length, 12);
    head.writeUInt32LE(origlen, 16);
    const body = [head, data, Buffer.alloc(pad4(data.length))];
    if (comments.length > 0) body.push(...comments.map((c) => option(1, Buffer.from(c))), END_OF_OPTIONS);
    this.write(block(6, body));
  }

  private write(b: Buffer): void {
    writeSync(this.fd, b);
  }

  close(): void {
    closeSync(this.fd);
  }
}
