/** Bounded-memory statistics for one direction of a connection, and the small helpers they share. */
import { f64, u32 } from './slab.ts';

/** The nearest-rank percentile of an ascending array (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** 10^d for 0..15 decimals: a table, as `10 ** d` with a variable d is a call (the report rounds ~100 000 numbers). */
const POW10 = Array.from({ length: 16 }, (_, d) => 10 ** d);

/** Rounds to a multiple of 1/p (p a power of ten), 0 for non-finite values. */
const roundScaled = (n: number, p: number): number => (Number.isFinite(n) ? Math.round(n * p) / p : 0);

/** Rounds to `d` decimals (0..15) for the JSON (0 for non-finite values). */
export const round = (n: number, d = 6): number => roundScaled(n, POW10[d]!);

/** Exact counts per value (segment sizes have few distinct values), for percentiles and histograms. */
export class ValueCounts {
  private readonly counts = new Map<number, number>();
  n = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  // Consecutive equal values (the common case: full-sized segments) are counted in a run and
  // folded into the map only when the value changes: one comparison per value on the hot path.
  private runValue = NaN;
  private runCount = 0;

  add(v: number): void {
    this.n++;
    this.sum += v;
    if (v === this.runValue) {
      this.runCount++;
      return;
    }
    this.flush();
    this.runValue = v;
    this.runCount = 1;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  private flush(): void {
    if (this.runCount > 0) this.counts.set(this.runValue, (this.counts.get(this.runValue) ?? 0) + this.runCount);
    this.runCount = 0;
    this.runValue = NaN;
  }

  percentile(p: number): number {
    this.flush();
    if (this.n === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.n));
    let seen = 0;
    for (const v of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(v)!;
      if (seen >= rank) return v;
    }
    return this.max;
  }

  /** Histogram with `bins` equal-width bins over [0, max]. */
  histogram(bins = 20): Array<{ from: number; to: number; count: number }> {
    this.flush();
    if (this.n === 0) return [];
    const width = Math.max(1, Math.ceil((this.max + 1) / bins));
    const out = Array.from({ length: Math.ceil((this.max + 1) / width) }, (_, i) => ({ from: i * width, to: (i + 1) * width - 1, count: 0 }));
    for (const [v, c] of this.counts) out[Math.floor(v / width)]!.count += c;
    return out;
  }

  /** The most frequent values, for a readable summary of segment sizes. */
  top(k = 5): Array<{ value: number; count: number }> {
    this.flush();
    return [...this.counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, k).map(([value, count]) => ({ value, count }));
  }
}

/**
 * Log-scale buckets read straight off a double's bits (as HdrHistogram does): the binary exponent and
 * the top 4 bits of the mantissa, 16 buckets per power of two, so a bucket's midpoint is within
 * 3.1 % of every value in it. From 2^-10 to 2^20 (about 0.001 to 1 000 000). No Math.log10 call per
 * sample: a store and a load (docs/analysis.md, Speed).
 */
const EXP_MIN = -10;
const EXP_MAX = 20;
const PER_OCTAVE = 16;
const LOG_BUCKETS = (EXP_MAX - EXP_MIN) * PER_OCTAVE;
const BITS = new Float64Array(1);
const BITS_HI = new Uint32Array(BITS.buffer, new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 4 : 0, 1);
const valueOf = (i: number): number => 2 ** (EXP_MIN + Math.floor(i / PER_OCTAVE)) * (1 + ((i % PER_OCTAVE) + 0.5) / PER_OCTAVE);

const NO_SAMPLES = new Float64Array(0);
const NO_COUNTS = new Uint32Array(0);

/**
 * The doubles of a sample on the hot path: the tracker writes them here and calls addSample().
 * A double passed as an argument to a call that V8 does not inline is boxed (a heap allocation for
 * every packet, and the garbage collections and fresh memory that follow), and whether a call is
 * inlined depends on the size of its caller. A typed array holds raw doubles: passing them costs nothing.
 */
export const SAMPLE = new Float64Array(2);
/** SAMPLE[T]: seconds since the connection started; SAMPLE[V]: the value (Series only). */
export const T = 0;
export const V = 1;

/** Running min, max and sum. */
export class Running {
  n = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  add(v: number): void {
    this.n++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }
}

/** Running min/max/mean and a bounded, evenly thinned series of (time, value) samples for charts. */
export class Series {
  n = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  private readonly cap: number;
  private stride = 1;
  private seen = 0;
  /** Kept samples as (time, value) pairs in one typed array: no allocation per sample. */
  private kept = NO_SAMPLES;
  private keptN = 0;
  /** Log-scale histogram for percentiles: 16 buckets per power of two from 2^-10 to 2^20 (3.1 % resolution). */
  private hist = NO_COUNTS;

  /** Powers of ten of the decimals the kept samples are rounded to (as the JSON shows them). */
  private readonly tScale: number;
  private readonly vScale: number;

  /** Keeps fewer than `cap` samples, time rounded to `tDigits` and value to `vDigits` decimals. */
  constructor(cap = 1000, tDigits = 6, vDigits = 3) {
    this.cap = cap;
    this.tScale = POW10[tDigits]!;
    this.vScale = POW10[vDigits]!;
  }

  /** The arrays, at the first sample: many directions never have one (and the slab makes them cheap: slab.ts). */
  private allocate(): void {
    this.kept = f64(2 * Math.min(this.cap, 64));
    this.hist = u32(LOG_BUCKETS + 1);
  }

  add(t: number, v: number): void {
    SAMPLE[T] = t;
    SAMPLE[V] = v;
    this.addSample();
  }

  /** Adds the sample in SAMPLE (see there); keeping it for the chart is the rarer, slower path. */
  addSample(): void {
    const t = SAMPLE[T]!;
    const v = SAMPLE[V]!;
    if (this.n++ === 0) this.allocate();
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    // the log bucket of v (see BITS), computed here: passing v to a helper that is not inlined would box it
    BITS[0] = v;
    const hi = BITS_HI[0]!;
    const b = v <= 0 ? 0 : (((hi >>> 20) & 0x7ff) - 1023 - EXP_MIN) * PER_OCTAVE + ((hi >>> 16) & 0xf);
    this.hist[b < 0 ? 0 : b > LOG_BUCKETS ? LOG_BUCKETS : b]!++;
    if (this.seen++ % this.stride === 0) {
      // rounded once, here (as round() would): series() then only copies them
      this.kept[2 * this.keptN] = roundScaled(t, this.tScale);
      this.kept[2 * this.keptN + 1] = roundScaled(v, this.vScale);
      this.countKept();
    }
  }

  /** A sample was just written at keptN: count it, and make room for the next one. */
  private countKept(): void {
    if (++this.keptN >= this.cap) {
      // thin evenly: keep every other sample, and from now on every other new one
      for (let i = 0; i < this.keptN; i += 2) {
        this.kept[i] = this.kept[2 * i]!;
        this.kept[i + 1] = this.kept[2 * i + 1]!;
      }
      this.keptN = Math.ceil(this.keptN / 2);
      this.stride *= 2;
    }
    if (this.keptN * 2 === this.kept.length) {
      const bigger = f64(Math.min(2 * this.cap, this.kept.length * 2));
      bigger.set(this.kept);
      this.kept = bigger;
    }
  }

  /** The kept (time, value) samples, evenly thinned to fewer than `cap`, rounded as the constructor says. */
  series(): Array<[number, number]> {
    const k = this.kept;
    const out: Array<[number, number]> = new Array(this.keptN);
    for (let i = 0; i < this.keptN; i++) out[i] = [k[2 * i]!, k[2 * i + 1]!];
    return out;
  }

  median(): number {
    return this.percentile(50);
  }

  /** Approximate (bucket midpoint, within 3.1 %), clamped to the exact min and max. */
  percentile(p: number): number {
    if (this.n === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.n));
    let seen = 0;
    for (let i = 0; i < this.hist.length; i++) {
      seen += this.hist[i]!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, valueOf(i)));
    }
    return this.max;
  }
}

/**
 * Bytes per time bin; bins double in width when there get to be too many. The bins are a typed
 * array that doubles up to `maxBins` (a short connection keeps a small one): a new bin is mostly a
 * counter moving on, not an array growing (a long connection opens thousands of bins).
 */
export class Throughput {
  binSeconds = 0.01;
  private counts = NO_SAMPLES;
  private used = 0;
  private readonly maxBins: number;

  constructor(binSeconds = 0.01, maxBins = 512) {
    this.binSeconds = binSeconds;
    this.maxBins = maxBins;
  }

  /** Bytes in each bin, from the connection's start. */
  get bins(): number[] {
    const c = this.counts;
    const out: number[] = new Array(this.used);
    for (let i = 0; i < this.used; i++) out[i] = c[i]!;
    return out;
  }

  /** Bytes in the fullest bin (0 when there are none). */
  peak(): number {
    let m = 0;
    for (let i = 0; i < this.used; i++) if (this.counts[i]! > m) m = this.counts[i]!;
    return m;
  }

  /** `t`: seconds since the connection started. */
  add(t: number, bytes: number): void {
    SAMPLE[T] = t;
    this.addSample(bytes);
  }

  /** Adds `bytes` at the time in SAMPLE[T] (see SAMPLE). The common case is a bin that exists. */
  addSample(bytes: number): void {
    const i = Math.floor(SAMPLE[T]! / this.binSeconds);
    if (i < this.used) this.counts[i]! += bytes;
    else this.extend(bytes);
  }

  private extend(bytes: number): void {
    const t = SAMPLE[T]!;
    let i = Math.floor(t / this.binSeconds);
    while (i >= this.maxBins) {
      // twice as wide: each pair of bins becomes one
      const n = this.used;
      const c = this.counts;
      for (let k = 0; k < n; k += 2) c[k >> 1] = c[k]! + (k + 1 < n ? c[k + 1]! : 0);
      this.used = Math.ceil(n / 2);
      c.fill(0, this.used, n);
      this.binSeconds *= 2;
      i = Math.floor(t / this.binSeconds);
    }
    if (i >= this.counts.length) {
      // room for bin i: doubling, up to maxBins (a short connection keeps a small array)
      const bigger = f64(Math.min(this.maxBins, Math.max(16, 2 * this.counts.length, i + 1)));
      bigger.set(this.counts.subarray(0, this.used));
      this.counts = bigger;
    }
    if (i >= this.used) this.used = i + 1; // the bins in between are zero
    this.counts[i]! += bytes;
  }
}
