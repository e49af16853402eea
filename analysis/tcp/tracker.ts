/**
 * Follows every TCP connection of a capture: finds the connection of each packet (numbered in order
 * of appearance, like Wireshark's tcp.stream, with port reuse starting a new one), runs the
 * sequence-analysis rules, and updates statistics. Memory grows with the number of connections,
 * not with the number of packets.
 */
import { analyzeSegment, type AnalysisOut, type FlowState, type SegmentIn } from './rules.ts';
import { scaledWindow, seen, TcpConnection, type Direction } from './connection.ts';
import { FlowTable } from './flowtable.ts';
import * as stats from './stats.ts';
import * as packet from '../decode/packet.ts';
import type { DecodedPacket } from '../decode/packet.ts';

// Imported bindings are live: V8 reads each through a module cell wherever it is used on the hot
// path; a local constant it folds into optimised code (docs/analysis.md, Speed). Hence local copies.
const { SAMPLE, T, V } = stats;
const { ipv4String, TH_ACK, TH_FIN, TH_RST, TH_SYN } = packet;

export interface PayloadSink {
  /** A segment's captured payload (possibly shorter than seglen: snap length), in capture order (not reassembled): see reassembly.ts. */
  (conn: TcpConnection, fromClient: boolean, seq: number, data: Buffer, time: number, frame: number, seglen: number): void;
}

export interface PacketRecord {
  frame: number;
  conn: TcpConnection;
  fromA: boolean;
  flags: number;
  /** The decoded packet (reused: valid during the call). */
  packet: DecodedPacket;
}

export class TcpTracker {
  readonly connections: TcpConnection[] = [];
  private readonly table = new FlowTable();
  private readonly out: AnalysisOut = { flags: 0, ackRtt: -1 };
  private readonly seg: SegmentIn = { frame: 0, time: 0, seq: 0, ack: 0, seglen: 0, flags: 0, window: 0, sackBlocks: 0, sack: new Float64Array(8) };
  onPayload: PayloadSink | undefined;
  /** Called after each TCP packet with its analysis flags; the record is reused (valid during the call). */
  onAnalyzed: ((rec: PacketRecord) => void) | undefined;
  private readonly rec: PacketRecord = { frame: 0, conn: null as unknown as TcpConnection, fromA: false, flags: 0, packet: packet.newDecodedPacket() };

  /**
   * Follows one decoded TCP packet. Its time (seconds since the capture began) comes in `p.time`, a
   * field rather than an argument: a double passed to a function that is not inlined is boxed, one
   * allocation per packet.
   */
  handle(p: DecodedPacket, frame: number, frameLen: number, data: Buffer, truncated: boolean): void {
    const time = p.time;
    const table = this.table;
    const v4 = p.ipVersion === 4;
    const index = v4 ? table.find4(p.src4, p.sport, p.dst4, p.dport) : table.find6(p.src6, p.sport, p.dst6, p.dport);
    let conn = index >= 0 ? this.connections[index] : undefined;
    let fromA = table.fromA;
    const synOnly = (p.flags & (TH_SYN | TH_ACK)) === TH_SYN;
    if (conn && synOnly) {
      // Port reuse: a SYN with another ISN on a known port pair starts a new connection (as
      // tshark 4.0 does; the same ISN again is a retransmitted SYN).
      const fwd = fromA ? conn.ab : conn.ba;
      if (fwd.flow.baseSet && p.seq !== fwd.flow.baseSeq) conn = undefined;
    }
    if (!conn) {
      const a = { ip: v4 ? ipv4String(p.src4) : p.src6, port: p.sport };
      const b = { ip: v4 ? ipv4String(p.dst4) : p.dst6, port: p.dport };
      conn = new TcpConnection(this.connections.length, a, b, time, frame);
      this.connections.push(conn);
      if (v4) table.set4(p.src4, p.sport, p.dst4, p.dport, conn.index);
      else table.set6(p.src6, p.sport, p.dst6, p.dport, conn.index);
      fromA = true;
      if (!(p.flags & TH_SYN)) {
        // Seen mid-way: guess the client is the side with the higher (ephemeral) port.
        conn.clientIsA = p.sport > p.dport;
      }
    }
    this.process(conn, fromA, p, frame, frameLen, data, truncated);
  }

  private process(conn: TcpConnection, fromA: boolean, p: DecodedPacket, frame: number, frameLen: number, data: Buffer, truncated: boolean): void {
    const time = p.time;
    const dir: Direction = fromA ? conn.ab : conn.ba;
    const other: Direction = fromA ? conn.ba : conn.ab;
    const flags = p.flags;
    conn.end = time;
    conn.lastFrame = frame;

    // Completeness (dissect_tcp()'s conversation_completeness): a SYN counts only as the stream's first
    if (flags & TH_SYN) conn.completeness |= flags & TH_ACK ? 2 : conn.completeness === 0 ? 1 : 0;
    else if (flags & TH_ACK) conn.completeness |= 4;
    if (p.seglen > 0) conn.completeness |= 8;
    if (flags & TH_FIN) conn.completeness |= 16;
    if (flags & TH_RST) conn.completeness |= 32;

    // Handshake bookkeeping (roles, options, window scaling, initial RTT)
    if (flags & TH_SYN) {
      this.syn(conn, fromA, p, dir, other);
    } else if (flags & TH_ACK) {
      // The first segment with ACK and no SYN once a SYN was seen gives the initial RTT: the time
      // since the most recent SYN (dissect_tcp()'s ts_first_rtt; a RST-ACK counts, and no SYN-ACK
      // need have been seen).
      if (conn.firstRtt === 0 && seen(conn.mruSyn)) {
        conn.firstRtt = time - conn.mruSyn;
        conn.handshakeAckTime = time;
      }
      dir.flow.isFirstAck = true;
    }

    const seg = this.seg;
    seg.frame = frame; seg.time = time; seg.seq = p.seq; seg.ack = p.ack; seg.seglen = p.seglen;
    seg.flags = flags; seg.window = p.window; seg.sackBlocks = p.opts.sackBlocks; seg.sack = p.opts.sack;
    analyzeSegment(seg, dir.flow, other.flow, conn, this.out);
    const bits = this.out.flags;
    dir.countFlags(bits, frame);
    // only SYN/FIN/RST and the answers they wait for are steps (tested here: most packets are
    // neither, and ladderStep is too big to be inlined)
    if (conn.ladder.length < 16 && (flags & (TH_SYN | TH_FIN | TH_RST) || (fromA ? conn.ladderWaitFromB : conn.ladderWaitFromA))) {
      this.ladderStep(conn, fromA, p, frame, dir, other);
    }

    this.statistics(conn, fromA, p, frame, frameLen, data, truncated, dir, other);
    if (flags & (TH_FIN | TH_RST)) this.teardown(conn, fromA, flags, time, dir);
    if (bits & 0x0001) conn.mark('t', fromA);
    if (this.onAnalyzed) {
      const rec = this.rec;
      rec.frame = frame; rec.conn = conn; rec.fromA = fromA; rec.flags = bits; rec.packet = p;
      this.onAnalyzed(rec);
    }
  }

  /**
   * Per-direction statistics. The time comes from `p` and the RTT sample from `this.out`, and the
   * samples go to the statistics through SAMPLE (stats.ts): no double is passed as an argument, so
   * none is boxed per packet whatever V8 decides to inline.
   */
  private statistics(conn: TcpConnection, fromA: boolean, p: DecodedPacket, frame: number, frameLen: number, data: Buffer, truncated: boolean, dir: Direction, other: Direction): void {
    const time = p.time;
    const flags = p.flags;
    const seglen = p.seglen;
    dir.packets++;
    dir.bytes += frameLen;
    if (truncated) dir.truncated++;
    SAMPLE[T] = time - conn.start;
    if (seglen > 0) {
      dir.payloadBytes += seglen;
      dir.sizes.add(seglen);
      dir.throughput.addSample(seglen);
      const mss = other.synOptions?.mss ?? null;
      if (mss !== null && seglen > mss) dir.aboveMss++;
      conn.mark('d', fromA);
      if (this.onPayload) {
        this.onPayload(conn, fromA === conn.clientIsA, p.seq, data.subarray(p.payloadOffset, p.payloadOffset + p.payloadCaptured), time, frame, seglen);
      }
    } else if ((flags & (TH_SYN | TH_FIN | TH_RST)) === 0 && flags & TH_ACK) {
      conn.mark('a', fromA);
    }
    const ws = dir.flow.winScale;
    dir.windows.add(scaledWindow(flags, p.window, ws));
    const rtt = this.out.ackRtt;
    if (rtt >= 0) {
      SAMPLE[V] = rtt * 1000;
      other.rtt.addSample();
    }
  }

  /** A SYN or SYN-ACK: roles, the options offered, window scaling, handshake times. */
  private syn(conn: TcpConnection, fromA: boolean, p: DecodedPacket, dir: Direction, other: Direction): void {
    const o = p.opts;
    const time = p.time;
    dir.synOptions = { mss: o.mss >= 0 ? o.mss : null, wscale: o.wscale >= 0 ? o.wscale : null, sackPerm: o.sackPerm, timestamps: o.tsVal >= 0 };
    if (o.wscale >= 0) dir.flow.winScale = Math.min(o.wscale, 14);
    verifyWindowScaling((p.flags & TH_ACK) !== 0, dir.flow, other.flow);
    if (!(p.flags & TH_ACK)) {
      conn.clientIsA = fromA;
      conn.rolesKnown = true;
      conn.mruSyn = time;
      conn.synCount++;
      if (!seen(conn.synTime)) conn.synTime = time;
      conn.mark('s', fromA);
    } else {
      if (!conn.rolesKnown) { conn.clientIsA = !fromA; conn.rolesKnown = true; }
      if (!seen(conn.synAckTime)) conn.synAckTime = time;
      conn.mark('h', fromA);
    }
  }

  /** A FIN or RST: the teardown's times and the history. */
  private teardown(conn: TcpConnection, fromA: boolean, flags: number, time: number, dir: Direction): void {
    if (flags & TH_FIN) {
      if (!seen(dir.firstFin)) dir.firstFin = time;
      conn.mark('f', fromA);
    }
    if (flags & TH_RST) {
      if (!seen(dir.firstRst)) dir.firstRst = time;
      conn.mark('r', fromA);
    }
  }

  /** Records a SYN/FIN/RST packet, or the other side's first packet after a SYN or FIN (the caller tests which). */
  private ladderStep(conn: TcpConnection, fromA: boolean, p: DecodedPacket, frame: number, dir: Direction, other: Direction): void {
    if (fromA) conn.ladderWaitFromB = false;
    else conn.ladderWaitFromA = false;
    if (p.flags & (TH_SYN | TH_FIN)) {
      if (fromA) conn.ladderWaitFromA = true;
      else conn.ladderWaitFromB = true;
    }
    const o = p.opts;
    const opts: string[] = [];
    if (o.mss >= 0) opts.push(`MSS=${o.mss}`);
    if (o.wscale >= 0) opts.push(`WS=${2 ** o.wscale}`);
    if (o.sackPerm) opts.push('SACK_PERM');
    if (o.tsVal >= 0) opts.push(`TSval=${o.tsVal}`);
    conn.ladder.push({
      t: p.time, frame, fromClient: fromA === conn.clientIsA, flags: flagString(p.flags),
      seq: (p.seq - dir.flow.baseSeq) >>> 0, ack: p.flags & TH_ACK ? (p.ack - other.flow.baseSeq) >>> 0 : 0,
      len: p.seglen, window: p.window, windowScale: p.flags & TH_SYN || dir.flow.winScale === -2 ? 1 : dir.flow.winScale === -1 ? null : 2 ** dir.flow.winScale, options: opts.join(' '),
    });
  }
}

const FLAG_LETTERS: Array<[number, string]> = [[TH_SYN, 'SYN'], [TH_FIN, 'FIN'], [TH_RST, 'RST'], [0x08, 'PSH'], [TH_ACK, 'ACK']];

/** "SYN-ACK", "FIN-PSH-ACK"…, for each value of the flags byte. */
const FLAG_STRINGS = Array.from({ length: 256 }, (_, flags) => FLAG_LETTERS.filter(([b]) => flags & b).map(([, n]) => n).join('-') || 'none');

function flagString(flags: number): string {
  return FLAG_STRINGS[flags & 0xff]!;
}

/**
 * Window scaling is in use only if both SYNs carry the option (Wireshark's verify_tcp_window_scaling):
 * -1 unknown, -2 not in use.
 */
function verifyWindowScaling(isSynAck: boolean, fwd: FlowState, rev: FlowState): void {
  if (fwd.winScale === -1) {
    fwd.winScale = -2;
    rev.winScale = -2;
  } else if (isSynAck && rev.winScale === -2) {
    fwd.winScale = -2;
  }
}
