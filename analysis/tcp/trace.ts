/**
 * Every data segment and every ACK of a few connections, for the time–sequence graph and the
 * bytes-in-flight chart (report/timeseq.ts). The first pass keeps memory bounded by the number of
 * connections, so this is a second read of the capture through the same tracker (the same
 * connection numbers and flags), keeping only the connections asked for.
 *
 * Budget: MAX_MARKS segments and MAX_MARKS ACKs per direction (1 MiB; the 24 drawn connections of
 * a big capture, 48 MiB at most). Past it, every other ordinary mark is dropped and from then on
 * only every second one is kept (and so on): the flagged segments (retransmissions, out-of-order,
 * probes) and ACKs (zero windows, SACK blocks, duplicates) are kept while they fit in half the
 * budget. The chart has fewer pixel columns than that.
 */
import { analyze } from '../analyze.ts';
import { A } from './flags.ts';
import type { PacketRecord } from './tracker.ts';
import { scaledWindow, type Direction } from './connection.ts';
import { TH_ACK } from '../decode/packet.ts';

export const MAX_MARKS = 8_000;

/** Columns of a segment mark: time, relative seq, length, analysis flag bits, frame. */
const SEG = 5;
/** Columns of an ACK mark: time, relative ack, scaled window, flag bits, frame, then 3 SACK blocks (relative left, right). */
const ACK = 11;

/** Analysis flags that make a segment a mark of its own colour. */
export const SEGMENT_FLAGS = A.RETRANSMISSION | A.FAST_RETRANSMISSION | A.SPURIOUS_RETRANSMISSION | A.OUT_OF_ORDER | A.ZERO_WINDOW_PROBE;
/** Analysis flags that make an ACK one to keep: zero window and duplicate ACK (SACK blocks are kept too). */
const ACK_FLAGS = A.ZERO_WINDOW | A.DUPLICATE_ACK;

/** Rows of `width` numbers, thinned as the budget says; `special` rows are kept while they fit. */
class Marks {
  rows = new Float64Array(0);
  n = 0;
  /** 1 while all ordinary rows are kept; 2 after the first thinning, and so on. */
  stride = 1;
  private seen = 0;
  private readonly width: number;
  constructor(width: number) { this.width = width; }

  /** Room for a row (its offset), or -1 when an ordinary row is skipped by the stride. */
  add(special: boolean): number {
    if (!special && this.seen++ % this.stride !== 0) return -1;
    if (this.n === MAX_MARKS) this.thin();
    if (this.n * this.width === this.rows.length) {
      const bigger = new Float64Array(Math.min(MAX_MARKS, Math.max(256, this.n * 2)) * this.width);
      bigger.set(this.rows);
      this.rows = bigger;
    }
    return this.n++ * this.width;
  }

  /** Drops every other ordinary row (and every other special one if they fill half the budget). */
  private thin(): void {
    const w = this.width;
    const flags = 3; // the flag bits' column in both kinds of row
    let specials = 0;
    for (let i = 0; i < this.n; i++) if (isSpecial(this.rows, i * w + flags, w)) specials++;
    const thinSpecials = specials > MAX_MARKS / 2;
    let keep = 0;
    let ordinary = 0;
    let special = 0;
    for (let i = 0; i < this.n; i++) {
      const sp = isSpecial(this.rows, i * w + flags, w);
      const kept = sp ? !thinSpecials || special++ % 2 === 0 : ordinary++ % 2 === 0;
      if (kept) this.rows.copyWithin(keep++ * w, i * w, (i + 1) * w);
    }
    this.n = keep;
    this.stride *= 2;
  }
}

function isSpecial(rows: Float64Array, at: number, width: number): boolean {
  const f = rows[at]!;
  return width === SEG ? (f & SEGMENT_FLAGS) !== 0 : (f & ACK_FLAGS) !== 0 || rows[at + 2]! >= 0;
}

/** One direction of a traced connection: the sender's segments and the receiver's ACKs, in capture order. */
export class DirectionTrace {
  readonly segments = new Marks(SEG);
  readonly acks = new Marks(ACK);
  /** Every data segment and ACK seen (the marks may be thinned). */
  segmentCount = 0;
  ackCount = 0;

  /** Segment i: [time, seq, len, flags, frame]. */
  segment(i: number): [number, number, number, number, number] {
    const r = this.segments.rows;
    const o = i * SEG;
    return [r[o]!, r[o + 1]!, r[o + 2]!, r[o + 3]!, r[o + 4]!];
  }

  ackTime(i: number): number { return this.acks.rows[i * ACK]!; }
  ackNumber(i: number): number { return this.acks.rows[i * ACK + 1]!; }

  /** ACK i: time, ack, window (scaled bytes), flags, frame and its SACK blocks (relative to the sender's ISN). */
  ack(i: number): { t: number; ack: number; window: number; flags: number; frame: number; sack: Array<[number, number]> } {
    const r = this.acks.rows;
    const o = i * ACK;
    const sack: Array<[number, number]> = [];
    for (let k = 0; k < 3; k++) if (r[o + 5 + 2 * k]! >= 0) sack.push([r[o + 5 + 2 * k]!, r[o + 6 + 2 * k]!]);
    return { t: r[o]!, ack: r[o + 1]!, window: r[o + 2]!, flags: r[o + 3]!, frame: r[o + 4]!, sack };
  }

  get thinned(): boolean { return this.segments.stride > 1 || this.acks.stride > 1; }
}

export interface ConnectionTrace { c2s: DirectionTrace; s2c: DirectionTrace }

/** Reads the capture again and traces the connections with these indices (tcp.stream numbers). */
export function traceConnections(path: string, indices: Iterable<number>): Map<number, ConnectionTrace> {
  const out = new Map<number, ConnectionTrace>();
  for (const i of indices) out.set(i, { c2s: new DirectionTrace(), s2c: new DirectionTrace() });
  if (out.size === 0) return out;
  analyze(path, { onAnalyzed: (rec) => { const t = out.get(rec.conn.index); if (t) record(t, rec); } });
  return out;
}

function record(t: ConnectionTrace, rec: PacketRecord): void {
  const p = rec.packet;
  const conn = rec.conn;
  const fromClient = rec.fromA === conn.clientIsA;
  const mine: Direction = rec.fromA ? conn.ab : conn.ba;
  const theirs: Direction = rec.fromA ? conn.ba : conn.ab;
  // this packet's data belongs to its sender's trace; its ACK to the trace of the other direction
  if (p.seglen > 0) {
    const d = fromClient ? t.c2s : t.s2c;
    d.segmentCount++;
    const at = d.segments.add((rec.flags & SEGMENT_FLAGS) !== 0);
    if (at >= 0) {
      const r = d.segments.rows;
      r[at] = p.time; r[at + 1] = (p.seq - mine.flow.baseSeq) >>> 0; r[at + 2] = p.seglen; r[at + 3] = rec.flags; r[at + 4] = rec.frame;
    }
  }
  if (p.flags & TH_ACK && theirs.flow.baseSet) {
    const d = fromClient ? t.s2c : t.c2s;
    d.ackCount++;
    const o = p.opts;
    const at = d.acks.add((rec.flags & ACK_FLAGS) !== 0 || o.sackBlocks > 0);
    if (at >= 0) {
      const r = d.acks.rows;
      r[at] = p.time; r[at + 1] = (p.ack - theirs.flow.baseSeq) >>> 0;
      r[at + 2] = scaledWindow(p.flags, p.window, mine.flow.winScale);
      r[at + 3] = rec.flags; r[at + 4] = rec.frame;
      for (let k = 0; k < 3; k++) {
        const has = k < o.sackBlocks;
        r[at + 5 + 2 * k] = has ? (o.sack[2 * k]! - theirs.flow.baseSeq) >>> 0 : -1;
        r[at + 6 + 2 * k] = has ? (o.sack[2 * k + 1]! - theirs.flow.baseSeq) >>> 0 : -1;
      }
    }
  }
}
