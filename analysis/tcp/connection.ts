/** One TCP connection: both directions' analysis state, statistics, handshake and teardown. */
import { FlowState } from './rules.ts';
import { FLAG_BITS, FLAG_NAMES, zeroFlagCounts, type FlagName } from './flags.ts';
import { Running, Series, Throughput, ValueCounts } from './stats.ts';
import { TH_SYN } from '../decode/packet.ts';

/**
 * A time not seen yet. Times are signed seconds from the capture's first record (a capture may
 * hold earlier ones, as Wireshark's relative times are signed), so no number can mean "none".
 */
export const UNSEEN = Number.NaN;
export const seen = (t: number): boolean => t === t; // false only for NaN

export interface Endpoint { ip: string; port: number }

/**
 * A segment's window in bytes: the field times 2^shift once window scaling is in use (`shift`
 * is FlowState.winScale: -1 unknown, -2 off); a SYN's window is never scaled.
 */
export const scaledWindow = (flags: number, window: number, shift: number): number => (flags & TH_SYN || shift <= 0 ? window : window * (1 << shift));

export interface SynOptions { mss: number | null; wscale: number | null; sackPerm: boolean; timestamps: boolean }

export class Direction {
  readonly flow = new FlowState();
  packets = 0;
  bytes = 0;
  payloadBytes = 0;
  truncated = 0;
  readonly sizes = new ValueCounts();
  readonly windows = new Running();
  /** RTT samples; 250 kept for the charts (more only make the JSON bigger and slower to write). */
  readonly rtt = new Series(250, 6, 3);
  readonly throughput = new Throughput();
  aboveMss = 0;
  readonly flagCounts: Record<FlagName, number> = zeroFlagCounts();
  /** First frames with each flag, for the report's "check it in Wireshark" links. */
  readonly flagFrames: Record<string, number[]> = {};
  synOptions: SynOptions | null = null;
  firstFin = UNSEEN;
  firstRst = UNSEEN;

  countFlags(bits: number, frame: number): void {
    if (bits === 0) return;
    for (const name of FLAG_NAMES) {
      if (bits & FLAG_BITS[name]) {
        this.flagCounts[name]++;
        const list = (this.flagFrames[name] ??= []);
        if (list.length < 20) list.push(frame);
      }
    }
  }
}

/** A handshake or teardown packet, for the report's ladder diagram. */
export interface LadderStep {
  t: number;
  frame: number;
  fromClient: boolean;
  /** SYN, SYN-ACK, ACK, FIN-ACK, RST… */
  flags: string;
  /** Relative sequence and acknowledgement numbers (as Wireshark shows them). */
  seq: number;
  ack: number;
  len: number;
  /** The window field as sent (raw). */
  window: number;
  /** What it is multiplied by: 1 in a SYN (never scaled) or without window scaling, 2^WS with it; null when the SYNs were not captured. */
  windowScale: number | null;
  options: string;
}

export class TcpConnection {
  readonly index: number;
  /** Address/port of the side that sent the first packet we saw. */
  readonly a: Endpoint;
  readonly b: Endpoint;
  /** Which of a/b is the client (sent the SYN). */
  clientIsA = true;
  rolesKnown = false;
  readonly ab = new Direction();
  readonly ba = new Direction();
  firstRtt = 0;
  /** Time of the most recent SYN (for the initial RTT, as Wireshark's ts_mru_syn). */
  mruSyn = UNSEEN;
  synTime = UNSEEN;
  synAckTime = UNSEEN;
  handshakeAckTime = UNSEEN;
  synCount = 0;
  /**
   * What of the conversation was seen, as Wireshark's tcp.completeness: 1 a SYN that started it,
   * 2 a SYN-ACK, 4 an ACK (without SYN), 8 data, 16 a FIN, 32 a RST. The handshake is complete
   * with 1, 2 and 4, in any order.
   */
  completeness = 0;
  // Numeric fields start as numbers: a field declared without a value starts as `undefined`, and
  // V8 then stores every later double into it as a new heap object (one allocation per packet).
  start = 0;
  end = 0;
  firstFrame = 0;
  lastFrame = 0;
  history = '';
  /** Handshake and teardown packets (SYN/FIN/RST and the first answer to each), at most 16. */
  readonly ladder: LadderStep[] = [];
  /** A SYN or FIN from this side (true: from A) waits for the other side's answer. */
  ladderWaitFromA = false;
  ladderWaitFromB = false;
  private seenByClient = 0;
  private seenByServer = 0;

  constructor(index: number, a: Endpoint, b: Endpoint, time: number, frame: number) {
    this.index = index;
    this.a = a;
    this.b = b;
    this.start = time;
    this.end = time;
    this.firstFrame = frame;
    this.lastFrame = frame;
  }

  get client(): Endpoint { return this.clientIsA ? this.a : this.b; }
  get server(): Endpoint { return this.clientIsA ? this.b : this.a; }
  get c2s(): Direction { return this.clientIsA ? this.ab : this.ba; }
  get s2c(): Direction { return this.clientIsA ? this.ba : this.ab; }

  /** Zeek-style history: uppercase for the client (originator), lowercase for the server. */
  mark(letter: string, fromA: boolean): void {
    // small, to be inlined where it is called for every packet ('d', 'a'): almost always the letter is already there
    const fromClient = fromA === this.clientIsA;
    const bit = 1 << (letter.charCodeAt(0) - 97);
    if (((fromClient ? this.seenByClient : this.seenByServer) & bit) === 0) this.add(letter, fromClient, bit);
  }

  private add(letter: string, fromClient: boolean, bit: number): void {
    if (fromClient) {
      this.seenByClient |= bit;
      this.history += letter.toUpperCase();
    } else {
      this.seenByServer |= bit;
      this.history += letter;
    }
  }

  /** Zeek's conn_state. */
  state(): string {
    const c = this.c2s;
    const s = this.s2c;
    const h = this.history;
    if (!this.rolesKnown && !h.includes('S')) return 'OTH';
    if (h.includes('S') && !h.includes('h') && !h.includes('r') && !s.packets) return 'S0';
    if (h.includes('S') && h.includes('r') && !h.includes('h')) return 'REJ';
    const established = h.includes('h');
    if (established) {
      if (seen(c.firstRst)) return 'RSTO';
      if (seen(s.firstRst)) return 'RSTR';
      if (seen(c.firstFin) && seen(s.firstFin)) return 'SF';
      if (seen(c.firstFin)) return 'S2';
      if (seen(s.firstFin)) return 'S3';
      return 'S1';
    }
    if (h.includes('S')) return seen(c.firstRst) ? 'RSTOS0' : 'SH';
    return 'OTH';
  }
}
