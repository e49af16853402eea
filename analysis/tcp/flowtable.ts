/**
 * Finds the connection of a packet by its addresses and ports, in either direction, without
 * allocating: IPv4 flows live in an open-addressing hash table of typed arrays (keys are the two
 * endpoints in a canonical order, so both directions hit the same slot with one probe sequence);
 * IPv6 flows, rarer here, use a Map with string keys.
 */

const EMPTY = -1;

export class FlowTable {
  private mask: number;
  private ipLo: Uint32Array;
  private ipHi: Uint32Array;
  private ports: Uint32Array;
  /** The connection stored in the slot, or EMPTY. */
  private conn: Int32Array;
  /** 1 when the connection's side A is the low endpoint. */
  private aIsLow: Uint8Array;
  private used = 0;
  private readonly v6 = new Map<string, { conn: number; aIp: string; aPort: number }>();
  /** After `find`: the packet was sent by side A of the connection found. */
  fromA = true;

  constructor(capacity = 1024) {
    const n = 2 ** Math.ceil(Math.log2(Math.max(16, capacity)));
    this.mask = 0;
    this.ipLo = this.ipHi = this.ports = new Uint32Array(0);
    this.conn = new Int32Array(0);
    this.aIsLow = new Uint8Array(0);
    this.allocate(n);
  }

  /** Empty arrays of n slots (a power of two). */
  private allocate(n: number): void {
    this.mask = n - 1;
    this.ipLo = new Uint32Array(n);
    this.ipHi = new Uint32Array(n);
    this.ports = new Uint32Array(n);
    this.conn = new Int32Array(n).fill(EMPTY);
    this.aIsLow = new Uint8Array(n);
  }

  /** The slot of an IPv4 flow: where it is, or the empty slot where it would go. */
  private slot4(src: number, sport: number, dst: number, dport: number): number {
    const srcLow = src < dst || (src === dst && sport <= dport);
    const lo = srcLow ? src : dst;
    const hi = srcLow ? dst : src;
    const ports = srcLow ? ((sport << 16) | dport) >>> 0 : ((dport << 16) | sport) >>> 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1) ^ Math.imul(ports, 0x85ebca6b), 0xc2b2ae35);
    h ^= h >>> 15;
    let i = h & this.mask;
    for (;;) {
      const c = this.conn[i]!;
      if (c === EMPTY || (this.ipLo[i] === lo && this.ipHi[i] === hi && this.ports[i] === ports)) {
        this.fromA = this.aIsLow[i] === (srcLow ? 1 : 0);
        return i;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** The connection index of an IPv4 flow in either direction (sets `fromA`), or -1. */
  find4(src: number, sport: number, dst: number, dport: number): number {
    return this.conn[this.slot4(src, sport, dst, dport)]!;
  }

  /** Points the flow at a new connection whose side A sent this packet. */
  set4(src: number, sport: number, dst: number, dport: number, conn: number): void {
    const i = this.slot4(src, sport, dst, dport);
    const srcLow = src < dst || (src === dst && sport <= dport);
    if (this.conn[i] === EMPTY) {
      this.ipLo[i] = srcLow ? src : dst;
      this.ipHi[i] = srcLow ? dst : src;
      this.ports[i] = srcLow ? ((sport << 16) | dport) >>> 0 : ((dport << 16) | sport) >>> 0;
      this.used++;
    }
    this.conn[i] = conn;
    this.aIsLow[i] = srcLow ? 1 : 0;
    this.fromA = true;
    if (this.used * 2 > this.mask) this.grow();
  }

  /** IPv6 flows, keyed by their two endpoints ("address|port") in a canonical order. */
  find6(src: string, sport: number, dst: string, dport: number): number {
    const e = this.v6.get(key6(src, sport, dst, dport));
    if (!e) return EMPTY;
    this.fromA = e.aIp === src && e.aPort === sport;
    return e.conn;
  }

  set6(src: string, sport: number, dst: string, dport: number, conn: number): void {
    this.v6.set(key6(src, sport, dst, dport), { conn, aIp: src, aPort: sport });
    this.fromA = true;
  }

  private grow(): void {
    const old = { lo: this.ipLo, hi: this.ipHi, ports: this.ports, conn: this.conn, aIsLow: this.aIsLow };
    this.allocate((this.mask + 1) * 2);
    for (let j = 0; j < old.conn.length; j++) {
      if (old.conn[j] === EMPTY) continue;
      // re-insert with the low endpoint as the sender: the stored orientation is kept in aIsLow
      const i = this.slot4(old.lo[j]!, old.ports[j]! >>> 16, old.hi[j]!, old.ports[j]! & 0xffff);
      this.ipLo[i] = old.lo[j]!;
      this.ipHi[i] = old.hi[j]!;
      this.ports[i] = old.ports[j]!;
      this.conn[i] = old.conn[j]!;
      this.aIsLow[i] = old.aIsLow[j]!;
    }
  }
}

function key6(src: string, sport: number, dst: string, dport: number): string {
  const a = `${src}|${sport}`;
  const b = `${dst}|${dport}`;
  return a < b ? `${a}/${b}` : `${b}/${a}`;
}
