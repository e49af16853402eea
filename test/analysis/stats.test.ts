/** The bounded statistics: the RTT series stays under its cap, thinned evenly, with exact min/max/mean. */
import { describe, expect, it } from 'vitest';
import { Series, Throughput, ValueCounts } from '../../analysis/tcp/stats.ts';
import { f64, u32 } from '../../analysis/tcp/slab.ts';

describe('Series', () => {
  it('keeps fewer than cap samples, evenly spaced from the first, with exact min, max and mean', () => {
    const s = new Series(250);
    for (let i = 0; i < 10_000; i++) s.add(i / 1000, 1 + (i % 100));
    const kept = s.series();
    expect(kept.length).toBeLessThan(250);
    expect(kept.length).toBeGreaterThanOrEqual(125);
    expect(kept[0]).toEqual([0, 1]);
    const gaps = new Set(kept.slice(1).map(([t], i) => Math.round((t - kept[i]![0]) * 1000)));
    expect(gaps.size).toBe(1); // one stride between all kept samples
    expect([s.n, s.min, s.max, s.sum / s.n]).toEqual([10_000, 1, 100, 50.5]);
    const p50 = s.percentile(50);
    expect(Math.abs(p50 - 50) / 50).toBeLessThan(0.06); // log buckets: within 5 %
  });

  it('keeps the samples rounded to the decimals it was given (the JSON\'s), and the exact values for min/max/mean', () => {
    const s = new Series(250, 6, 3);
    s.add(0.1234567, 1.23456);
    s.add(2.0000004, 0.0004);
    expect(s.series()).toEqual([[0.123457, 1.235], [2, 0]]);
    expect([s.min, s.max]).toEqual([0.0004, 1.23456]);
  });

  it('has no samples and zero percentiles before the first', () => {
    const s = new Series(250);
    expect(s.series()).toEqual([]);
    expect(s.percentile(90)).toBe(0);
  });
});

describe('ValueCounts and Throughput', () => {
  it('counts runs of equal values exactly', () => {
    const v = new ValueCounts();
    for (const x of [1448, 1448, 1448, 100, 1448, 0]) v.add(x);
    expect(v.top()).toEqual([{ value: 1448, count: 4 }, { value: 100, count: 1 }, { value: 0, count: 1 }]);
    expect([v.min, v.max, v.percentile(50)]).toEqual([0, 1448, 1448]);
  });

  it('merges bins when the time goes past its last bin, keeping every byte', () => {
    const t = new Throughput(0.01, 8);
    for (let i = 0; i < 100; i++) t.add(i * 0.01, 10);
    expect(t.bins.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(t.bins.length).toBeLessThanOrEqual(8);
    expect(t.binSeconds).toBeCloseTo(0.16, 9);
  });

  it('puts bytes in the bin of their time, leaves skipped bins at zero, and knows the fullest', () => {
    const t = new Throughput(0.01, 512);
    t.add(0.001, 5);
    t.add(0.035, 7);
    t.add(0.036, 1);
    expect(t.bins).toEqual([5, 0, 0, 8]);
    expect(t.peak()).toBe(8);
    expect(new Throughput().bins).toEqual([]);
    expect(new Throughput().peak()).toBe(0);
  });

  it('grows its bins as the time goes on, and halves them past the limit, keeping each byte in its bin', () => {
    const t = new Throughput(0.01, 512);
    t.add(0.001, 1); // bin 0
    t.add(0.205, 2); // bin 20: the array grows
    t.add(1.005, 3); // bin 100: grows again
    let b = t.bins;
    expect(b).toHaveLength(101);
    expect([b[0], b[20], b[100], b.reduce((x, y) => x + y, 0)]).toEqual([1, 2, 3, 6]);
    t.add(6.005, 4); // bin 600: past 512, so bins become 0.02 s wide
    b = t.bins;
    expect(t.binSeconds).toBeCloseTo(0.02, 9);
    expect([b[0], b[10], b[50], b[300], b.length, b.reduce((x, y) => x + y, 0)]).toEqual([1, 2, 3, 4, 301, 10]);
  });
});

describe('slab', () => {
  it('hands out zeroed, non-overlapping arrays across block boundaries, and big ones of their own', () => {
    const arrays = Array.from({ length: 400 }, (_, i) => (i % 2 ? f64(3 * 16 + (i % 7)) : u32(481)));
    for (const a of arrays) expect(a.every((x) => x === 0)).toBe(true);
    arrays.forEach((a, i) => a.fill(i + 1));
    arrays.forEach((a, i) => expect(a.every((x) => x === i + 1)).toBe(true));
    const big = f64(100_000);
    expect(big.length).toBe(100_000);
    expect(big.buffer.byteLength).toBe(800_000);
  });
});
