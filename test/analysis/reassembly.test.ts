/** Payload reassembly on hand-made segment orders (real captures: reassembly-capture.system.test.ts). */
import { describe, expect, it } from 'vitest';
import { StreamReassembler } from '../../analysis/tcp/reassembly.ts';
import { analyzeSegment, FlowState } from '../../analysis/tcp/rules.ts';
import { A } from '../../analysis/tcp/flags.ts';

function collect(): { r: StreamReassembler; bytes: Buffer[]; gaps: Array<[number, number]> } {
  const bytes: Buffer[] = [];
  const gaps: Array<[number, number]> = [];
  const r = new StreamReassembler({ data: (b) => bytes.push(Buffer.from(b)), gap: (o, l) => gaps.push([o, l]) }, 64);
  return { r, bytes, gaps };
}

describe('stream reassembly', () => {
  it('orders, de-duplicates and trims overlapping segments, across sequence wrap-around', () => {
    const { r, bytes } = collect();
    const base = 0xfffffff0;
    const text = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789');
    const seg = (from: number, to: number): [number, Buffer] => [(base + from) >>> 0, text.subarray(from, to)];
    r.start(base);
    for (const [seq, d] of [seg(0, 5), seg(10, 20), seg(5, 12), seg(3, 8), seg(20, 36), seg(15, 25)]) r.push(seq, d, 0, 0);
    expect(Buffer.concat(bytes).toString()).toBe(text.toString());
  });

  it('reports a hole that never fills as a gap of the right length and carries on', () => {
    const { r, bytes, gaps } = collect();
    r.start(1000);
    r.push(1000, Buffer.from('hello '), 0, 1);
    r.push(1010, Buffer.from('world'), 0, 2); // 4 bytes (1006..1009) never come
    r.finish(0);
    expect(gaps).toEqual([[6, 4]]);
    expect(Buffer.concat(bytes).toString()).toBe('hello world');
    expect(r.offset).toBe(15);
  });

  it('bounds the bytes waiting behind a hole', () => {
    const { r, gaps } = collect();
    r.start(0);
    for (let i = 1; i <= 20; i++) r.push(100 * i, Buffer.alloc(10, 1), 0, i); // holes everywhere, 64-byte limit
    expect(gaps.length).toBeGreaterThan(0);
  });
});


describe('rule timing', () => {
  it('compares times in whole nanoseconds, as Wireshark: a gap equal to the initial RTT is not out-of-order', () => {
    const fwd = new FlowState();
    const rev = new FlowState();
    const conv = { firstRtt: 0.000030 }; // 30 µs, from 0.000030 - 0
    const out = { flags: 0, ackRtt: -1 };
    const seg = (frame: number, time: number, seq: number): number => {
      analyzeSegment({ frame, time, seq, ack: 1, seglen: 1448, flags: 0x10, window: 500, sackBlocks: 0, sack: new Float64Array(8) }, fwd, rev, conv, out);
      return out.flags;
    };
    seg(1, 0.006189, 1000);
    seg(2, 0.006190, 2448);
    // 0.006219 - 0.006190 in floats is 2.89999…e-5; exactly 29 µs in ns: out-of-order
    expect(seg(3, 0.006219, 1000) & A.OUT_OF_ORDER).toBeTruthy();
    // exactly 30 µs after the highest segment: Wireshark's `t < ooo_thres` is false → retransmission
    expect(seg(4, 0.006220, 1000) & A.RETRANSMISSION).toBeTruthy();
  });
});
