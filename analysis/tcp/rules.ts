/**
 * TCP sequence analysis, rule for rule after Wireshark's tcp_analyze_sequence_number()
 * (epan/dissectors/packet-tcp.c), so every flag means what Wireshark's user guide ("TCP Analysis")
 * says and a user can check it with the display filter `tcp.analysis.<flag>`.
 *
 * Each rule is a comment stating it in English and an `if` with exactly those conditions, OR-ing a
 * flag into the packet's record. Rules run in Wireshark's order; some end the forward checks early
 * (`break fwd`), as Wireshark's `goto finished_fwd` does. Sequence numbers compare modulo 2^32.
 * Like Wireshark, a `nextseq` of 0 means "nothing seen yet".
 */
import * as seqArith from './seq.ts';
import * as packet from '../decode/packet.ts';
import { f64 } from './slab.ts';
import { A as FLAG } from './flags.ts';
import * as causes from './causes.ts';

// Imported bindings are live: V8 reads each through a module cell wherever it is used on the hot
// path; a local constant it folds into optimised code (docs/analysis.md, Speed). Hence the local
// copies below.
const { GT_SEQ, LE_SEQ, LT_SEQ, EQ_SEQ } = seqArith;
const { TH_ACK, TH_FIN, TH_RST, TH_SYN } = packet;
const A = FLAG;
const { explainRetransmission, UA_STRIDE } = causes;
const RETRANSMITTED = FLAG.RETRANSMISSION | FLAG.FAST_RETRANSMISSION | FLAG.SPURIOUS_RETRANSMISSION;

/** 2^n for a window-scale shift (0..14): a table, as `2 ** n` is a call per data segment. */
const POW2 = Array.from({ length: 15 }, (_, n) => 2 ** n);

/** Segments remembered for RTT matching, as TCP_MAX_UNACKED_SEGMENTS. */
const MAX_UNACKED = 10000;

/**
 * The segments of one direction not yet ACKed, in the order sent (Wireshark's ua_segs list), as
 * parallel typed arrays: no object per segment, so following a bulk transfer allocates nothing.
 */
const NO_SEGMENTS = new Float64Array(0);

export class UnackedList {
  length = 0;
  /** (seq, nextseq, time, frame) per segment, side by side (UA_STRIDE): one array, adjacent in memory. */
  data = NO_SEGMENTS;

  /**
   * Room for one more segment: its index into `data`, or -1 when the list is full. The caller
   * writes the fields (a time passed as an argument to a call that is not inlined would be boxed).
   */
  add(): number {
    if (this.length === MAX_UNACKED) return -1;
    if (UA_STRIDE * this.length === this.data.length) {
      const bigger = f64(UA_STRIDE * Math.min(MAX_UNACKED, Math.max(16, this.length * 2)));
      bigger.set(this.data);
      this.data = bigger;
    }
    return UA_STRIDE * this.length++;
  }
}

/** One direction's analysis state (Wireshark's tcp_flow_t / tcp_analyze_seq_flow_info_t). */
export class FlowState {
  baseSeq = 0;
  baseSet = false;
  nextseq = 0;
  nextseqTime = 0;
  maxseqtobeacked = 0;
  lastack = 0;
  lastackTime = 0;
  /**
   * The last window this direction advertised; until it has sent anything, the largest there is
   * (init_tcp_conversation_data() starts it at G_MAXUINT32), so nothing sent before the peer was
   * seen is a zero-window probe.
   */
  window = 0xffffffff;
  /** -1: unknown, -2: no scaling, else the shift. */
  winScale = -1;
  /** Has this direction sent an ACK without SYN yet (its windows are scaled from then on). */
  isFirstAck = false;
  dupacknum = 0;
  lastsegmentflags = 0;
  readonly unacked = new UnackedList();
  // What causes.ts reads to explain a retransmission: this direction's duplicate ACKs, its last
  // ACK of new data, whether its last ACK SACKed bytes above the ACK, its data's smoothed RTT.
  dupFirstFrame = 0;
  dupLastFrame = 0;
  newAckTime = Number.NaN;
  newAckFrame = 0;
  newAck = 0;
  sackedAbove = false;
  srtt = Number.NaN;
  causes: causes.CauseLog | null = null;
}

export interface SegmentIn {
  frame: number;
  /** Seconds since the start of the capture. */
  time: number;
  seq: number;
  ack: number;
  seglen: number;
  flags: number;
  /** The raw (unscaled) window field. */
  window: number;
  /** SACK blocks in this segment, and their edges (left, right, … as sent: raw sequence numbers). */
  sackBlocks: number;
  sack: Float64Array;
}

export interface AnalysisOut {
  flags: number;
  /** RTT sample when this segment ACKs a remembered segment exactly (tcp.analysis.ack_rtt), else -1. */
  ackRtt: number;
}

/** Conversation-level state shared by both directions. */
export interface ConvTiming {
  /** Initial RTT (tcp.analysis.initial_rtt), seconds; 0 while unknown. */
  firstRtt: number;
}

/**
 * Times are seconds (float) since the capture's start; Wireshark compares whole nanoseconds, so time
 * differences are compared in integer nanoseconds too (a float difference of 30 µs can come out a
 * hair short and flip a rule at its boundary).
 */
const ns = (seconds: number): number => Math.round(seconds * 1e9);
/**
 * "a came less than limit ns after b", as Wireshark computes it: the difference is an unsigned 64-bit
 * integer, so a negative one (timestamps going backwards, as captures on multi-core machines can
 * record them) is huge and never "soon".
 */
const within = (a: number, b: number, limit: number): boolean => {
  const d = ns(a) - ns(b);
  return d >= 0 && d < limit;
};

export function analyzeSegment(s: SegmentIn, fwd: FlowState, rev: FlowState, conv: ConvTiming, out: AnalysisOut): void {
  let f = 0;
  out.ackRtt = -1;
  const { seq, ack, seglen, flags, window, time } = s;

  // The first segment of a direction fixes its base sequence number (relative numbers start at 1
  // when the SYN was not seen).
  if (!fwd.baseSet) {
    fwd.baseSeq = flags & TH_SYN ? seq : (seq - 1) >>> 0;
    fwd.baseSet = true;
  }
  // The reverse direction's base comes from the first ACK number seen (not from a SYN's ACK field).
  if (!rev.baseSet && flags & TH_ACK) {
    rev.baseSeq = (ack - 1) >>> 0;
    rev.baseSet = true;
  }

  fwd: {
    // ZERO WINDOW PROBE: 1 byte at the next expected sequence number while the other side's window is 0.
    if (seglen === 1 && seq === fwd.nextseq && rev.window === 0) {
      f |= A.ZERO_WINDOW_PROBE;
      break fwd;
    }

    // ZERO WINDOW: the window field is 0 and none of SYN, FIN, RST is set.
    if (window === 0 && (flags & (TH_RST | TH_FIN | TH_SYN)) === 0) {
      f |= A.ZERO_WINDOW;
    }

    // LOST SEGMENT ("previous segment not captured"): this segment starts beyond the next expected
    // sequence number. Only once something was seen in this direction; not for RST.
    if (fwd.nextseq !== 0 && GT_SEQ(seq, fwd.nextseq) && (flags & TH_RST) === 0) {
      f |= A.LOST_PACKET;
    }

    // KEEP-ALIVE: 0 or 1 byte starting one byte before the next expected sequence number; never SYN/FIN/RST.
    if ((seglen === 0 || seglen === 1) && seq === ((fwd.nextseq - 1) >>> 0) && (flags & (TH_SYN | TH_FIN | TH_RST)) === 0) {
      f |= A.KEEP_ALIVE;
    }

    // WINDOW UPDATE: no data, same SEQ and ACK as before, a new non-zero window; never SYN/FIN/RST.
    if (seglen === 0 && window !== 0 && window !== fwd.window && seq === fwd.nextseq && ack === fwd.lastack && (flags & (TH_SYN | TH_FIN | TH_RST)) === 0) {
      f |= A.WINDOW_UPDATE;
    }

    // WINDOW FULL: data that reaches exactly the right edge of the window the other side advertised
    // (only when its scaling is known); never SYN/FIN/RST.
    if (seglen > 0 && rev.winScale !== -1
      && ((seq + seglen) >>> 0) === ((rev.lastack + rev.window * POW2[rev.isFirstAck && rev.winScale >= 0 ? rev.winScale : 0]!) >>> 0)
      && (flags & (TH_SYN | TH_FIN | TH_RST)) === 0) {
      f |= A.WINDOW_FULL;
    }

    // KEEP-ALIVE ACK: repeats the previous ACK and window, right after a keep-alive from the other side.
    if (seglen === 0 && window !== 0 && window === fwd.window && seq === fwd.nextseq && ack === fwd.lastack
      && rev.lastsegmentflags & A.KEEP_ALIVE && (flags & (TH_SYN | TH_FIN | TH_RST)) === 0) {
      f |= A.KEEP_ALIVE_ACK;
      break fwd;
    }

    // ZERO WINDOW PROBE ACK: repeats the previous ACK and the zero window, right after a zero-window probe.
    if (seglen === 0 && window === 0 && window === fwd.window && seq === fwd.nextseq && ack === fwd.lastack
      && rev.lastsegmentflags & A.ZERO_WINDOW_PROBE && (flags & (TH_SYN | TH_FIN | TH_RST)) === 0) {
      f |= A.ZERO_WINDOW_PROBE_ACK;
      break fwd;
    }

    // DUPLICATE ACK: no data, and the same window, SEQ and ACK as the previous segment; never SYN/FIN/RST.
    if (seglen === 0 && window !== 0 && window === fwd.window && seq === fwd.nextseq && ack === fwd.lastack
      && (flags & (TH_SYN | TH_FIN | TH_RST)) === 0) {
      // -1 (set below after an ACKed-unseen flag) counts as no duplicate yet: this is the first
      fwd.dupacknum = fwd.dupacknum === -1 ? 1 : fwd.dupacknum + 1;
      if (fwd.dupacknum === 1) fwd.dupFirstFrame = s.frame;
      fwd.dupLastFrame = s.frame;
      f |= A.DUPLICATE_ACK;
    }
  }

  // A new ACK number restarts the duplicate-ACK count.
  if (ack !== fwd.lastack) {
    fwd.dupacknum = 0;
  }
  // An ACK of new data (for the causes of retransmissions: the timer restarts with it).
  if (flags & TH_ACK && (GT_SEQ(ack, fwd.lastack) || fwd.lastack === 0)) {
    fwd.newAckTime = time;
    fwd.newAckFrame = s.frame;
    fwd.newAck = ack;
  }
  if (s.sackBlocks > 0) sackSeen(s, fwd, rev);
  else fwd.sackedAbove = false;

  // ACKED UNSEEN SEGMENT: this ACKs beyond what the other direction has been seen to send
  // contiguously, so segments in that direction were not captured. Flagged once for the same
  // unseen data: when the other side has a hole (its next sequence number is past the highest
  // ACKable), the highest ACKable is raised to it and the ACK flagged; otherwise it is flagged only
  // while the other side's duplicate-ACK count is 0, which is then set to -1 until that side's own
  // ACK number changes (tshark 4.0's tcp_analyze_sequence_number(), which compares the two as plain
  // unsigned numbers; checked against tshark 4.0.17 on crafted captures, test/analysis/wild).
  if (rev.maxseqtobeacked !== 0 && GT_SEQ(ack, rev.maxseqtobeacked) && flags & TH_ACK) {
    if (rev.nextseq > rev.maxseqtobeacked) {
      rev.maxseqtobeacked = rev.nextseq;
      f |= A.ACK_LOST_PACKET;
    } else {
      if (rev.dupacknum === 0) f |= A.ACK_LOST_PACKET;
      rev.dupacknum = -1;
    }
  }

  // RETRANSMISSION / FAST RETRANSMISSION / SPURIOUS / OUT-OF-ORDER: a segment with data (or SYN/FIN)
  // that does not advance the sequence number. A keep-alive is none of these.
  if (seglen > 0 || flags & (TH_SYN | TH_FIN)) {
    retrans: {
      if (f & A.KEEP_ALIVE) break retrans;
      let seqNotAdvanced = fwd.nextseq !== 0 && LT_SEQ(seq, fwd.nextseq);
      // Not a retransmission: more than one byte starting one before nextseq (after a zero-window probe).
      if (seglen > 1 && ((fwd.nextseq - 1) >>> 0) === seq) seqNotAdvanced = false;

      // SPURIOUS RETRANSMISSION: every byte of it was already ACKed by the other side.
      if (seglen > 0 && rev.lastack !== 0 && LE_SEQ((seq + seglen) >>> 0, rev.lastack)) {
        f |= A.SPURIOUS_RETRANSMISSION;
        break retrans;
      }
      if (!seqNotAdvanced) break retrans;

      // FAST RETRANSMISSION: at least 2 duplicate ACKs from the other side ask for exactly this
      // sequence number, and this comes within 20 ms of the last of them.
      if (rev.dupacknum >= 2 && rev.lastack === seq && within(time, rev.lastackTime, 20_000_000)) {
        f |= A.FAST_RETRANSMISSION;
        break retrans;
      }

      // OUT-OF-ORDER: it came soon (within the initial RTT, or 3 ms when unknown) after the segment
      // with the highest sequence number, and is not an exact copy of that segment.
      // (An initial RTT that came out negative is, unsigned, larger than any difference.)
      const threshold = conv.firstRtt === 0 ? 3_000_000 : conv.firstRtt < 0 ? Infinity : ns(conv.firstRtt);
      if (within(time, fwd.nextseqTime, threshold) && fwd.nextseq !== ((seq + seglen + (flags & (TH_SYN | TH_FIN) ? 1 : 0)) >>> 0)) {
        f |= A.OUT_OF_ORDER;
        break retrans;
      }

      // Otherwise: a RETRANSMISSION.
      f |= A.RETRANSMISSION;
    }
    if (f & RETRANSMITTED) {
      const end = (seq + seglen + (flags & (TH_SYN | TH_FIN) ? 1 : 0)) >>> 0;
      explainRetransmission(s.frame, time, seq, end, flags, (f & A.FAST_RETRANSMISSION) !== 0, (f & A.SPURIOUS_RETRANSMISSION) !== 0, fwd, rev);
    }
  }

  // Remember the segment for RTT matching; SYN and FIN count as one byte.
  let nextseq = (seq + seglen) >>> 0;
  if (seglen > 0 || flags & (TH_SYN | TH_FIN)) {
    if (flags & (TH_SYN | TH_FIN)) nextseq = (nextseq + 1) >>> 0;
    const ua = fwd.unacked;
    const at = ua.add();
    if (at >= 0) {
      ua.data[at] = seq;
      ua.data[at + 1] = nextseq;
      ua.data[at + 2] = time;
      ua.data[at + 3] = s.frame;
    }
  }

  // The highest sequence number seen so far (zero-window probes do not advance it).
  if (GT_SEQ(nextseq, fwd.nextseq) || fwd.nextseq === 0) {
    if (!(f & A.ZERO_WINDOW_PROBE)) {
      fwd.nextseq = nextseq;
      fwd.nextseqTime = time;
    }
  }

  // The highest contiguous sequence number seen, to detect ACKs of unseen segments.
  if (EQ_SEQ(seq, fwd.maxseqtobeacked) || fwd.maxseqtobeacked === 0) {
    if (!(f & A.ZERO_WINDOW_PROBE)) fwd.maxseqtobeacked = fwd.nextseq;
  }

  fwd.window = window;
  fwd.lastack = ack;
  fwd.lastackTime = time;
  fwd.lastsegmentflags = f;

  // Segments of the other direction that this ACKs: an exact match gives an RTT sample.
  const list = rev.unacked;
  if (list.length > 0 && flags & TH_ACK) {
    const u = list.data;
    const n = UA_STRIDE * list.length;
    let keep = 0;
    for (let i = 0; i < n; i += UA_STRIDE) {
      const useg = u[i]!;
      const unextseq = u[i + 1]!;
      if (ack === unextseq) {
        // Wireshark walks newest-first and keeps the last match: the oldest copy of the segment.
        if (out.ackRtt < 0) out.ackRtt = time - u[i + 2]!;
        continue; // acked: drop
      }
      if (GT_SEQ(ack, useg) && LE_SEQ(ack, unextseq)) {
        u[keep] = ack; // partly acked
      } else if (GT_SEQ(unextseq, ack)) {
        u[keep] = useg;
      } else {
        continue; // older than the ACK: drop
      }
      u[keep + 1] = unextseq;
      u[keep + 2] = u[i + 2]!;
      u[keep + 3] = u[i + 3]!;
      keep += UA_STRIDE;
    }
    keep /= UA_STRIDE;
    list.length = keep;
    // the data's smoothed RTT (RFC 6298 §2.3), for the causes of its retransmissions
    if (out.ackRtt >= 0) rev.srtt = rev.srtt === rev.srtt ? 0.875 * rev.srtt + 0.125 * out.ackRtt : out.ackRtt;
  }
  out.flags = f;
}

/**
 * An ACK with SACK blocks: does it SACK bytes above its ACK (a hole the sender should repair), and
 * is its first block a D-SACK (RFC 2883 §4: below the ACK, or inside the second block), which
 * says bytes arrived twice: noted on the retransmission it covers.
 */
function sackSeen(s: SegmentIn, fwd: FlowState, rev: FlowState): void {
  const e = s.sack;
  let above = false;
  for (let k = 0; k < s.sackBlocks; k++) if (GT_SEQ(e[2 * k + 1]!, s.ack)) above = true;
  fwd.sackedAbove = above && (s.flags & TH_ACK) !== 0;
  const left = e[0]!;
  const right = e[1]!;
  const dsack = LT_SEQ(left, s.ack) || (s.sackBlocks > 1 && LE_SEQ(e[2]!, left) && LE_SEQ(right, e[3]!));
  if (dsack && rev.causes) rev.causes.dsack(left, right, s.frame);
}
