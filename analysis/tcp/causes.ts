/**
 * Why each retransmission happened. Wireshark (tcp_analyze_sequence_number() in
 * epan/dissectors/packet-tcp.c) says *that* a segment is a retransmission, fast or spurious; this
 * says *why*, from what the capture shows of both sides, by the first rule that holds (its cause
 * in brackets):
 *
 *   spurious           [spurious] Wireshark's tcp.analysis.spurious_retransmission: every byte
 *                      was already ACKed.
 *   fast               [fast] Wireshark's tcp.analysis.fast_retransmission: ≥ 2 duplicate ACKs
 *                      ask for exactly this byte, the last within 20 ms (RFC 5681 §3.2).
 *   zero-window-probe  [probe] the receiver's window is 0 (RFC 9293 §3.8.6.1).
 *   duplicate          [other] a copy of a segment sent less than DUPLICATE_WITHIN before,
 *                      with nothing from the receiver in between: the sender had nothing to act
 *                      on and no timer is that short, so a copy made on the way or by the capture.
 *   timeout            [timeout] no ACK of new data for timeoutAfter() (200 ms or 1.5 smoothed
 *                      RTTs): the retransmission timer expired (RFC 6298; it restarts with each
 *                      ACK of new data, §5.3).
 *   recovery-ongoing   [recovery] a recovery begun by a fast retransmission is not over: the ACK
 *                      has not passed the highest byte sent when it began (RFC 6582's "recover").
 *   timeout-go-back    [timeout] the same after a timeout: the sender resends what was outstanding.
 *   recovery-reported  [recovery] the receiver's duplicate ACKs or SACK blocks report a hole, but
 *                      Wireshark's fast rule does not hold (one duplicate ACK, another byte, or
 *                      later than 20 ms; RFC 6675's SACK recovery). It begins a recovery.
 *   gap-filled         [other] bytes the capture had not seen before: reordered on the way, or
 *                      the first copy was lost before the capture point.
 *   tail-loss-probe    [probe] the last segment sent, resent sooner than any timeout but not
 *                      sooner than TLP_FLOOR (RFC 8985 §7).
 *   other              [other] none of the above.
 *
 * A fast retransmission and a timeout begin a recovery too.
 * So the causes partition Wireshark's tcp.analysis.retransmission: fast and spurious are its own
 * flags; the rest is its plain retransmission. A receiver's D-SACK block (RFC 2883) that covers a
 * retransmission is noted on it: the original had arrived, the copy was not needed.
 */
import * as seqArith from './seq.ts';

const { GE_SEQ, GT_SEQ, LE_SEQ, LT_SEQ } = seqArith;

export const CAUSES = ['timeout', 'fast', 'recovery', 'spurious', 'probe', 'other'] as const;
export type Cause = (typeof CAUSES)[number];

/**
 * The smallest retransmission timeout there is in practice: Linux's TCP_RTO_MIN (200 ms; RFC 6298
 * asks for 1 s, Windows uses 300 ms). A resend after a shorter silence is not a timeout.
 */
export const RTO_FLOOR_S = 0.2;

/**
 * The shortest probe timer: Linux arms a tail-loss probe at least TCP_TIMEOUT_MIN (2 jiffies, 2 ms
 * at HZ=1000) after the last ACK or send (tcp_schedule_loss_probe()).
 */
export const TLP_FLOOR_S = 0.002;

/** A resend sooner than this with nothing from the receiver in between is a copy, not the sender's doing. */
export const DUPLICATE_WITHIN_S = 0.001;

/** Retransmissions described one by one, per direction (all are counted). */
export const MAX_DESCRIBED = 100;

export type Rule = 'spurious' | 'fast' | 'zero-window-probe' | 'duplicate' | 'timeout' | 'recovery-ongoing' | 'timeout-go-back' | 'recovery-reported' | 'gap-filled' | 'tail-loss-probe' | 'other';

/** The rules in the order they are tried, each in plain words (the report adds names and numbers: findings.ts). */
export const RULE_WORDS: Record<Rule, string> = {
  spurious: 'every byte of it was already acknowledged (Wireshark: spurious retransmission)',
  fast: 'two or more duplicate ACKs asked for exactly this byte and it came within 20 ms of the last (Wireshark: fast retransmission)',
  'zero-window-probe': "the receiver's window was 0: the sender probes it with bytes already sent",
  duplicate: 'a copy of a segment sent less than 1 ms before, with nothing from the receiver in between: a copy made on the way or by the capture',
  timeout: 'no ACK of new data came for a retransmission timeout (200 ms, or 1.5 smoothed RTTs when longer): the timer expired',
  'recovery-ongoing': 'a recovery begun by a fast retransmission was under way: the ACKs had not yet passed the highest byte sent when it began',
  'timeout-go-back': 'after a timeout the sender resends what was outstanding',
  'recovery-reported': "the receiver's duplicate ACKs or SACK blocks reported a hole, but not as Wireshark's fast-retransmission rule needs",
  'gap-filled': 'the capture had not seen these bytes before: reordered on the way, or the first copy was lost before the capture point',
  'tail-loss-probe': 'it resends the last segment sent, 2 ms or more after the last ACK but sooner than any retransmission timeout: a tail-loss probe',
  other: 'none of the rules fits',
};

export interface RetransmissionRecord {
  frame: number;
  cause: Cause;
  rule: Rule;
  /** What was resent: data, or a SYN, SYN-ACK or FIN (each counts as one byte). */
  segment: 'data' | 'SYN' | 'SYN-ACK' | 'FIN';
  /** Relative sequence numbers of the bytes resent, [from, to). */
  bytes: [number, number];
  /** The frame that first sent these bytes (null: not in view, e.g. already ACKed or not captured). */
  original: number | null;
  sinceOriginalMs: number | null;
  /** Since the receiver's last ACK of new data (null: none yet). */
  sinceNewAckMs: number | null;
  /** The receiver's last ACK of new data: its frame and the relative byte it asks for. */
  lastNewAck: { frame: number; ack: number } | null;
  /** The receiver's duplicate ACKs before it. */
  dupAcks: { count: number; first: number; last: number } | null;
  /** The fast retransmission or timeout that began the recovery it belongs to. */
  episode: number | null;
  /** A later ACK of the receiver's whose D-SACK block covers these bytes. */
  dsack: number | null;
}

/** One direction's retransmissions by cause, the first MAX_DESCRIBED described, and the recovery under way. */
export class CauseLog {
  readonly counts: Record<Cause, number> = { timeout: 0, fast: 0, recovery: 0, spurious: 0, probe: 0, other: 0 };
  readonly records: RetransmissionRecord[] = [];
  /** The recovery under way: until the ACK reaches `recoverUntil` (a raw sequence number). */
  episodeKind: 'fast' | 'timeout' | null = null;
  episodeFrame = 0;
  recoverUntil = 0;
  private readonly open: Array<{ rec: RetransmissionRecord; seq: number; end: number }> = [];

  add(rec: RetransmissionRecord, seq: number, end: number): void {
    this.counts[rec.cause]++;
    if (this.records.length >= MAX_DESCRIBED) return;
    this.records.push(rec);
    this.open.push({ rec, seq, end });
  }

  /** A D-SACK from the receiver for raw sequence numbers [left, right): noted on the latest resend it covers. */
  dsack(left: number, right: number, frame: number): void {
    for (let i = this.open.length - 1; i >= 0; i--) {
      const o = this.open[i]!;
      if (o.rec.dsack === null && LE_SEQ(left, o.seq) && GE_SEQ(right, o.end)) {
        o.rec.dsack = frame;
        return;
      }
    }
  }
}

/** What the cause rules read of one direction (a subset of rules.ts's FlowState). */
export interface CauseFlow {
  baseSeq: number;
  nextseq: number;
  lastack: number;
  /** When this direction last sent anything. */
  lastackTime: number;
  window: number;
  dupacknum: number;
  dupFirstFrame: number;
  dupLastFrame: number;
  /** The last ACK of new data this direction sent: time (NaN: none), frame, ack. */
  newAckTime: number;
  newAckFrame: number;
  newAck: number;
  sackedAbove: boolean;
  /** Smoothed RTT of this direction's data (seconds, RFC 6298's SRTT; NaN: no sample yet). */
  srtt: number;
  unacked: { length: number; data: Float64Array };
  causes: CauseLog | null;
}

/** Stride of an unacked segment in UnackedList.data: seq, nextseq, time, frame. */
export const UA_STRIDE = 4;

/**
 * The silence after which a resend counts as a timeout: RTO_FLOOR, or 1.5 smoothed RTTs when that
 * is longer (a sender's RTO is at least its smoothed RTT plus the floor: Linux's tcp_set_rto()),
 * so a recovery's resends on a long path, each an RTT after the last partial ACK, are not timeouts.
 */
function timeoutAfter(f: CauseFlow): number {
  return f.srtt === f.srtt && 1.5 * f.srtt > RTO_FLOOR_S ? 1.5 * f.srtt : RTO_FLOOR_S;
}

const CAUSE_OF: Record<Rule, Cause> = {
  spurious: 'spurious', fast: 'fast', 'zero-window-probe': 'probe', duplicate: 'other', timeout: 'timeout', 'recovery-ongoing': 'recovery',
  'timeout-go-back': 'timeout', 'recovery-reported': 'recovery', 'gap-filled': 'other', 'tail-loss-probe': 'probe', other: 'other',
};

const ms = (s: number): number => Math.round(s * 1e6) / 1e3;

/**
 * Classifies the retransmission `seq`/`end` (raw) at `time` sent by `fwd` to `rev`, given
 * Wireshark's verdict (`fast`, `spurious`), and logs it. Called before the segment changes any state.
 */
export function explainRetransmission(frame: number, time: number, seq: number, end: number, tcpFlags: number, fast: boolean, spurious: boolean, fwd: CauseFlow, rev: CauseFlow): void {
  const log = (fwd.causes ??= new CauseLog());
  // the oldest copy of these bytes still waiting for its ACK
  let original = -1;
  let originalTime = NaN;
  const u = fwd.unacked.data;
  for (let i = 0; i < UA_STRIDE * fwd.unacked.length; i += UA_STRIDE) {
    if ((LT_SEQ(u[i]!, end) && GT_SEQ(u[i + 1]!, seq)) || u[i] === seq) {
      original = u[i + 3]!;
      originalTime = u[i + 2]!;
      break;
    }
  }
  const ackSeen = rev.newAckTime === rev.newAckTime;
  // the retransmission timer runs from the later of the original's sending and the last ACK of new data
  const timerFrom = ackSeen && !(originalTime > rev.newAckTime) ? rev.newAckTime : originalTime;
  const silence = timerFrom === timerFrom ? time - timerFrom : ackSeen ? time - rev.newAckTime : NaN;
  if (log.episodeKind && GE_SEQ(rev.lastack, log.recoverUntil)) log.episodeKind = null;
  const dup = rev.dupacknum >= 1;
  let rule: Rule;
  if (spurious) rule = 'spurious';
  else if (fast) rule = 'fast';
  else if (rev.window === 0) rule = 'zero-window-probe';
  else if (original >= 0 && time - originalTime >= 0 && time - originalTime < DUPLICATE_WITHIN_S && !(rev.lastackTime > originalTime)) rule = 'duplicate';
  else if (silence >= timeoutAfter(fwd)) rule = 'timeout';
  else if (log.episodeKind === 'fast') rule = 'recovery-ongoing';
  else if (log.episodeKind === 'timeout') rule = 'timeout-go-back';
  else if (dup || rev.sackedAbove) rule = 'recovery-reported';
  else if (original < 0) rule = 'gap-filled';
  else if (end === fwd.nextseq && silence >= TLP_FLOOR_S) rule = 'tail-loss-probe';
  else rule = 'other';
  const cause = CAUSE_OF[rule];
  const episode = log.episodeKind && (cause === 'recovery' || rule === 'timeout-go-back') ? log.episodeFrame : null;
  if (rule === 'fast' || rule === 'recovery-reported' || rule === 'timeout') {
    // a recovery begins: it lasts until the ACK passes the highest byte sent so far
    log.episodeKind = rule === 'timeout' ? 'timeout' : 'fast';
    log.episodeFrame = frame;
    log.recoverUntil = GT_SEQ(end, fwd.nextseq) ? end : fwd.nextseq;
  }
  log.add({
    frame, cause, rule,
    segment: tcpFlags & 0x02 ? (tcpFlags & 0x10 ? 'SYN-ACK' : 'SYN') : tcpFlags & 0x01 && end - seq === 1 ? 'FIN' : 'data',
    bytes: [(seq - fwd.baseSeq) >>> 0, (end - fwd.baseSeq) >>> 0],
    original: original >= 0 ? original : null,
    sinceOriginalMs: original >= 0 ? ms(time - originalTime) : null,
    sinceNewAckMs: ackSeen ? ms(time - rev.newAckTime) : null,
    lastNewAck: ackSeen ? { frame: rev.newAckFrame, ack: (rev.newAck - fwd.baseSeq) >>> 0 } : null,
    dupAcks: dup ? { count: rev.dupacknum, first: rev.dupFirstFrame, last: rev.dupLastFrame } : null,
    episode,
    dsack: null,
  }, seq, end);
}
