/**
 * Payload reassembly for one direction of a connection: segments in capture order in, the byte
 * stream in order out. Retransmitted bytes are delivered once; out-of-order segments wait (bounded)
 * for the hole before them; a hole that never fills (the capture missed it) is reported as a gap of
 * known length and skipped, so the consumer can resynchronise.
 */
import { GT_SEQ, LT_SEQ, seqDiff } from './seq.ts';

export interface ReassemblyEvents {
  /** In-order bytes: `offset` counts from the first byte of the stream. */
  data(bytes: Buffer, offset: number, time: number, frame: number): void;
  /**
   * Bytes [offset, offset+length) are not in the capture: `cut` from the end of frame `frame` (the
   * snap length kept only its start), or else never captured (the hole lies before frame `frame`).
   */
  gap(offset: number, length: number, time: number, frame: number, cut: boolean): void;
}

interface Pending { seq: number; data: Buffer; time: number; frame: number; missing: number }

export class StreamReassembler {
  private next: number | null = null;
  private base = 0;
  private delivered = 0;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private readonly maxPending: number;
  private readonly ev: ReassemblyEvents;
  gaps = 0;
  gapBytes = 0;

  constructor(ev: ReassemblyEvents, maxPendingBytes = 8 * 1024 * 1024) {
    this.ev = ev;
    this.maxPending = maxPendingBytes;
  }

  /** Sets the sequence number of the first payload byte (ISN + 1) when the SYN was seen. */
  start(seq: number): void {
    if (this.next === null) {
      this.next = seq >>> 0;
      this.base = this.next;
    }
  }

  get offset(): number {
    return this.delivered;
  }

  /**
   * A segment in capture order. `seglen` is its length on the wire: when the capture truncated it
   * (snap length), the bytes after `data` are reported as a gap once the stream reaches them.
   */
  push(seq: number, data: Buffer, time: number, frame: number, seglen = data.length): void {
    if (seglen === 0) return;
    if (this.next === null) this.start(seq);
    const next = this.next!;
    const end = (seq + seglen) >>> 0;
    if (!GT_SEQ(end, next)) return; // entirely old: a retransmission of delivered bytes
    let missing = seglen - data.length;
    if (LT_SEQ(seq, next)) {
      const cut = seqDiff(next, seq);
      const capCut = Math.min(cut, data.length);
      data = data.subarray(capCut);
      missing -= cut - capCut;
      seq = next;
    }
    if (seq === next) {
      this.deliver(data, missing, time, frame);
      this.drain();
    } else {
      // copy: the capture buffer is reused after this call
      this.pending.push({ seq, data: Buffer.from(data), time, frame, missing });
      this.pendingBytes += data.length;
      this.pending.sort((a, b) => seqDiff(a.seq, b.seq));
      while (this.pendingBytes > this.maxPending) this.skipGap(time);
    }
  }

  private deliver(data: Buffer, missing: number, time: number, frame: number): void {
    if (data.length > 0) {
      this.ev.data(data, this.delivered, time, frame);
      this.delivered += data.length;
      this.next = (this.next! + data.length) >>> 0;
    }
    if (missing > 0) this.lose(missing, time, frame, true);
  }

  private lose(len: number, time: number, frame: number, cut: boolean): void {
    this.ev.gap(this.delivered, len, time, frame, cut);
    this.gaps++;
    this.gapBytes += len;
    this.delivered += len;
    this.next = (this.next! + len) >>> 0;
  }

  private drain(): void {
    while (this.pending.length > 0) {
      const p = this.pending[0]!;
      const next = this.next!;
      const end = (p.seq + p.data.length + p.missing) >>> 0;
      if (!GT_SEQ(end, next)) {
        this.pending.shift();
        this.pendingBytes -= p.data.length;
        continue;
      }
      if (GT_SEQ(p.seq, next)) return;
      this.pending.shift();
      this.pendingBytes -= p.data.length;
      const cut = seqDiff(next, p.seq);
      const capCut = Math.min(cut, p.data.length);
      this.deliver(p.data.subarray(capCut), p.missing - (cut - capCut), p.time, p.frame);
    }
  }

  /** Declares the hole before the first waiting segment lost, and carries on after it. */
  private skipGap(time: number): void {
    const p = this.pending[0];
    if (!p) return;
    const len = seqDiff(p.seq, this.next!);
    if (len > 0) this.lose(len, time, p.frame, false);
    this.drain();
  }

  /** End of capture: whatever still waits comes after holes that never filled. */
  finish(time: number): void {
    while (this.pending.length > 0) this.skipGap(time);
  }
}
