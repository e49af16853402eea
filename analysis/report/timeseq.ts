/**
 * The pictures of one direction of a connection that tcptrace's xplot and Wireshark's TCP Stream
 * Graphs made familiar, drawn from a second pass over the capture (tcp/trace.ts):
 *
 * - the time–sequence graph: each data segment a vertical bar from its first to its last byte
 *   (flagged ones in their own colours), the ACK line, the receiver's window edge above it
 *   (ACK + window: the highest byte the sender may send), the SACK blocks beside the ACK line and
 *   zero windows marked on it;
 * - bytes in flight (sent, not yet ACKed nor SACKed) against the receiver's window: where the two
 *   meet, the receiver's window limits the sender; below it, the network or the application does.
 *
 * Both draw at most a mark per pixel column for ordinary segments and ACKs (a long transfer has
 * far more segments than the chart has pixels); flagged segments and zero windows keep a mark each.
 */
import { A } from '../tcp/flags.ts';
import type { DirectionTrace } from '../tcp/trace.ts';
import { edgeAnchor, esc, fmt, open, ticks } from './svg.ts';

const W = 760;
const H = 400;
const M = { l: 70, r: 16, t: 46, b: 40 };
const PW = W - M.l - M.r;
const PH = H - M.t - M.b;

/** Flagged segments drawn on their own, in their own colours (the first flag that matches). */
const KINDS: Array<{ bit: number; name: string; many: string; color: string }> = [
  { bit: A.SPURIOUS_RETRANSMISSION, name: 'spurious retransmission', many: 'spurious retransmissions', color: '#c026d3' },
  { bit: A.FAST_RETRANSMISSION, name: 'fast retransmission', many: 'fast retransmissions', color: '#ea580c' },
  { bit: A.RETRANSMISSION, name: 'retransmission', many: 'retransmissions', color: '#dc2626' },
  { bit: A.OUT_OF_ORDER, name: 'out of order', many: 'out of order', color: '#0891b2' },
  { bit: A.ZERO_WINDOW_PROBE, name: 'zero-window probe', many: 'zero-window probes', color: '#854d0e' },
];
const DATA = '#1f2937';
const ACK_LINE = '#16a34a';
const WINDOW_LINE = '#ca8a04';
const SACK = '#9333ea';
/** Flagged segments drawn one by one; past this, one mark per pixel column and kind. */
const MAX_FLAGGED = 600;

const kindOf = (flags: number): number => KINDS.findIndex((k) => (flags & k.bit) !== 0);

/** Bytes as a student reads them on an axis or in a sentence. */
const bytesWords = (n: number): string => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${Math.round(n)} B`);

/** A stretch of the time axis with activity, and where it is drawn. */
interface Period { t0: number; t1: number; px0: number; px1: number }

interface Frame {
  x0: number;
  x1: number;
  /** The active stretches in time order; idle spells between them are cut out of the axis. */
  periods: Period[];
  /** The shortest idle spell that was cut (seconds; Infinity when none). */
  cut: number;
  X: (t: number) => number;
  col: (t: number) => number;
}

/** Width of the mark where an idle spell is cut out of the axis. */
const BREAK_PX = 14;
/** At most this many idle spells are cut (the longest). */
const MAX_BREAKS = 6;
/** An active stretch is drawn at least this wide, however short. */
const MIN_PERIOD_PX = 36;

/**
 * The time the charts span, as a broken axis: the lab's connections carry short bursts (a song
 * sent in 40 ms) between long idle spells (waiting for the next request), and on one linear axis
 * the bursts shrink to a few pixels. So each idle spell longer than a twelfth of the whole and
 * 5 ms (the longest MAX_BREAKS) is cut out and marked on the axis, and each active stretch gets a
 * share of the width by its duration (at least MIN_PERIOD_PX), with its own times at its ends.
 */
function timeFrame(d: DirectionTrace): Frame {
  const times: number[] = [];
  for (let i = 0; i < d.segments.n; i++) times.push(d.segment(i)[0]);
  for (let i = 0; i < d.acks.n; i++) times.push(d.ackTime(i));
  times.sort((a, b) => a - b);
  if (times.length === 0) times.push(0, 1);
  const x0 = times[0]!;
  let x1 = times[times.length - 1]!;
  if (x1 - x0 < 1e-6) x1 = x0 + 1e-3;
  const min = Math.max((x1 - x0) / 12, 0.005);
  const gaps: Array<[number, number]> = [];
  for (let i = 1; i < times.length; i++) if (times[i]! - times[i - 1]! > min) gaps.push([times[i - 1]!, times[i]!]);
  const cuts = gaps.sort((a, b) => (b[1] - b[0]) - (a[1] - a[0])).slice(0, MAX_BREAKS).sort((a, b) => a[0] - b[0]);
  const spans: Array<[number, number]> = [];
  let from = x0;
  for (const [a, b] of cuts) { spans.push([from, a]); from = b; }
  spans.push([from, x1]);
  const room = PW - BREAK_PX * cuts.length;
  const active = spans.reduce((n, [a, b]) => n + (b - a), 0) || 1;
  // widths by duration, each at least MIN_PERIOD_PX, then scaled to fill the room
  const raw = spans.map(([a, b]) => Math.max(MIN_PERIOD_PX, ((b - a) / active) * room));
  const k = room / raw.reduce((n, w) => n + w, 0);
  const periods: Period[] = [];
  let px = M.l;
  spans.forEach(([a, b], i) => {
    const w = raw[i]! * k;
    periods.push({ t0: a, t1: b, px0: px, px1: px + w });
    px += w + BREAK_PX;
  });
  const X = (t: number): number => {
    for (let i = 0; i < periods.length; i++) {
      const p = periods[i]!;
      if (t <= p.t1 || i === periods.length - 1) {
        if (t < p.t0) return i === 0 ? p.px0 : p.px0 - BREAK_PX / 2; // in the cut spell before it
        return p.px0 + (p.t1 > p.t0 ? ((Math.min(t, p.t1) - p.t0) / (p.t1 - p.t0)) * (p.px1 - p.px0) : 0);
      }
    }
    return M.l + PW;
  };
  return { x0, x1, periods, cut: cuts.length ? Math.min(...cuts.map(([a, b]) => b - a)) : Infinity, X, col: (t) => Math.min(PW - 1, Math.max(0, Math.floor(X(t) - M.l))) };
}

/** Each direction's frame, computed once (its graph, its flight and the flight's chart share it). */
const frames = new WeakMap<DirectionTrace, Frame>();
function frameOf(d: DirectionTrace): Frame {
  let f = frames.get(d);
  if (!f) frames.set(d, (f = timeFrame(d)));
  return f;
}

/** The time axis (seconds since the capture began, with its cut spells marked), the y axis and its title. */
function axes(f: Frame, ys: number[], Y: (v: number) => number, yLabel: string, yFmt: (v: number) => string): string {
  const out: string[] = [];
  for (const v of ys) out.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#eee"/><text x="${M.l - 6}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end">${yFmt(v)}</text>`);
  const base = M.t + PH;
  // tick labels left to right; one that would overlap the label before it is left out
  let right = -Infinity;
  const label = (x: number, text: string, anchor: 'start' | 'middle' | 'end'): void => {
    const w = text.length * 6.2;
    const left = anchor === 'start' ? x : anchor === 'end' ? x - w : x - w / 2;
    if (left < right + 6) return;
    right = left + w;
    out.push(`<text x="${x.toFixed(1)}" y="${base + 14}" text-anchor="${anchor}">${text}</text>`);
  };
  f.periods.forEach((p, i) => {
    const width = p.px1 - p.px0;
    const n = Math.max(1, Math.min(5, Math.floor(width / 90)));
    // as many decimals as tell this stretch's ticks apart (a 40 ms burst a second in: 1.330, 1.338…)
    const decimals = Math.min(4, Math.max(1, Math.ceil(-Math.log10(Math.max(1e-4, p.t1 - p.t0) / n))));
    for (let k = 0; k <= n; k++) {
      const t = p.t0 + ((p.t1 - p.t0) * k) / n;
      const anchor = f.periods.length === 1 ? (edgeAnchor(k, n) as 'start' | 'middle' | 'end') : k === 0 ? 'start' : k === n ? 'end' : 'middle';
      label(p.px0 + (width * k) / n, t.toFixed(decimals), anchor);
    }
    if (i > 0) {
      const x = p.px0 - BREAK_PX / 2;
      out.push(`<rect x="${(x - BREAK_PX / 2 + 2).toFixed(1)}" y="${M.t}" width="${BREAK_PX - 4}" height="${PH}" fill="#f3f4f6"/><path d="M${(x - 4).toFixed(1)},${base + 5} l4,-10 M${x.toFixed(1)},${base + 5} l4,-10" stroke="#555" stroke-width="1.2"/>`);
    }
  });
  out.push(`<line x1="${M.l}" y1="${base}" x2="${W - M.r}" y2="${base}" stroke="#333"/><line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${base}" stroke="#333"/>`);
  const title = f.periods.length > 1 ? `seconds since the capture began (idle spells of ${fmtSpell(f.cut)} or more cut out: //)` : 'seconds since the capture began';
  out.push(`<text x="${W / 2}" y="${H - 4}" text-anchor="middle" fill="#555">${esc(title)}</text><text x="14" y="${M.t + PH / 2}" text-anchor="middle" fill="#555" transform="rotate(-90 14 ${M.t + PH / 2})">${esc(yLabel)}</text>`);
  return out.join('');
}

const fmtSpell = (s: number): string => (s >= 1 ? `${s.toFixed(1)} s` : `${Math.round(s * 1000)} ms`);

/** The broken time axis in words, for a chart's description. */
const axisWords = (f: Frame): string => (f.periods.length > 1 ? ` The time axis leaves out ${f.periods.length - 1} idle spell${f.periods.length > 2 ? 's' : ''} (the shortest ${fmtSpell(f.cut)}).` : '');

function legend(items: Array<[string, string, string]>): string {
  let x = M.l;
  return items.map(([name, color, shape]) => {
    const mark = shape === 'bar' ? `<rect x="${x}" y="${M.t - 20}" width="3" height="12" fill="${color}"/>` : shape === 'diamond' ? `<path d="M${x + 5},${M.t - 20} l5,6 l-5,6 l-5,-6 z" fill="none" stroke="${color}" stroke-width="1.5"/>` : `<line x1="${x}" x2="${x + 12}" y1="${M.t - 14}" y2="${M.t - 14}" stroke="${color}" stroke-width="2"/>`;
    const out = `${mark}<text x="${x + 16}" y="${M.t - 10}">${esc(name)}</text>`;
    x += 30 + name.length * 6.2;
    return out;
  }).join('');
}

/** The time–sequence graph of one direction; `sender`/`receiver` name its ends. */
export function timeSequenceSvg(d: DirectionTrace, title: string, sender: string, receiver: string): string {
  const f = frameOf(d);
  let sent = 0;
  for (let i = 0; i < d.segments.n; i++) { const [, seq, len] = d.segment(i); if (seq + len > sent) sent = seq + len; }
  let ymax = Math.max(1, sent);
  let edgeMax = 0;
  for (let i = 0; i < d.acks.n; i++) {
    const a = d.ack(i);
    // an ACK of bytes the capture never saw sent (a hostile or broken peer, or one ACKing below
    // the ISN, which wraps to near 2^32) is drawn at the top edge; it does not set the scale
    if (d.segments.n > 0 && a.ack > sent + 1) continue;
    if (a.ack + a.window > edgeMax) edgeMax = a.ack + a.window;
    if (a.ack > ymax) ymax = a.ack;
  }
  // the window edge may lie far above the data (a large window): the chart follows the data and clips it
  const clipped = d.segments.n > 0 && edgeMax > ymax * 1.25;
  ymax = Math.max(ymax, clipped ? ymax * 1.25 : edgeMax);
  const ys = ticks(ymax);
  const ytop = ys[ys.length - 1]!;
  const Y = (v: number): number => M.t + PH - (Math.min(v, ytop) / ytop) * PH;
  const counts = KINDS.map(() => 0);
  // ordinary segments: one bar per pixel column, from the lowest first byte to the highest last one
  const lo = new Float64Array(PW).fill(Infinity);
  const hi = new Float64Array(PW).fill(-Infinity);
  const flagged: string[] = [];
  const flaggedCols = KINDS.map(() => new Map<number, [number, number, number]>());
  for (let i = 0; i < d.segments.n; i++) {
    const [t, seq, len, flags, frame] = d.segment(i);
    const k = kindOf(flags);
    if (k < 0) {
      const c = f.col(t);
      if (seq < lo[c]!) lo[c] = seq;
      if (seq + len > hi[c]!) hi[c] = seq + len;
      continue;
    }
    counts[k]!++;
    if (counts[k]! <= MAX_FLAGGED) {
      const x = f.X(t).toFixed(1);
      flagged.push(`<line class="mark seg-${k}" x1="${x}" x2="${x}" y1="${Y(seq).toFixed(1)}" y2="${Math.min(Y(seq + len), Y(seq) - 3).toFixed(1)}" stroke="${KINDS[k]!.color}" stroke-width="2.5"><title>${esc(`frame ${frame}: ${KINDS[k]!.name}, seq ${seq}, ${len} bytes, ${(t * 1000).toFixed(3)} ms`)}</title></line>`);
    } else {
      const cols = flaggedCols[k]!;
      const c = f.col(t);
      const v = cols.get(c);
      cols.set(c, v ? [Math.min(v[0], seq), Math.max(v[1], seq + len), v[2] + 1] : [seq, seq + len, 1]);
    }
  }
  let bars = '';
  for (let c = 0; c < PW; c++) if (hi[c]! > -Infinity) bars += `M${(M.l + c + 0.5).toFixed(1)},${Y(lo[c]!).toFixed(1)}V${Math.min(Y(hi[c]!), Y(lo[c]!) - 1).toFixed(1)}`;
  flaggedCols.forEach((cols, k) => {
    for (const [c, [a, b]] of cols) flagged.push(`<line class="mark seg-${k}" x1="${M.l + c + 0.5}" x2="${M.l + c + 0.5}" y1="${Y(a).toFixed(1)}" y2="${Math.min(Y(b), Y(a) - 3).toFixed(1)}" stroke="${KINDS[k]!.color}" stroke-width="2.5"/>`);
  });
  // the ACK line and the window edge: steps, the last value in each pixel column
  let ackPath = '';
  let winPath = '';
  let sackPath = '';
  const zero: string[] = [];
  let lastCol = -1;
  let zeroWindows = 0;
  let sacks = 0;
  for (let i = 0; i < d.acks.n; i++) {
    const a = d.ack(i);
    const x = f.X(a.t).toFixed(1);
    const c = f.col(a.t);
    const step = (path: string, y: number): string => (path ? `${path}H${x}V${y.toFixed(1)}` : `M${x},${y.toFixed(1)}`);
    if (c !== lastCol || i === d.acks.n - 1 || a.window === 0) {
      ackPath = step(ackPath, Y(a.ack));
      winPath = step(winPath, Y(a.ack + a.window));
      lastCol = c;
    }
    if (a.sack.length) {
      sacks++;
      for (const [l, r] of a.sack) if (r > l) sackPath += `M${(f.X(a.t) + 1.5).toFixed(1)},${Y(l).toFixed(1)}V${Math.min(Y(r), Y(l) - 1).toFixed(1)}`;
    }
    if (a.window === 0 && a.flags & A.ZERO_WINDOW) {
      zeroWindows++;
      if (zeroWindows <= MAX_FLAGGED) zero.push(`<path class="mark zero-window" d="M${x},${(Y(a.ack) - 6).toFixed(1)} l5,6 l-5,6 l-5,-6 z" fill="none" stroke="#dc2626" stroke-width="1.5"><title>${esc(`frame ${a.frame}: zero window, ${receiver} can take nothing more (ACK ${a.ack})`)}</title></path>`);
    }
  }
  const present = KINDS.map((k, i) => [k, counts[i]!] as const).filter(([, n]) => n > 0);
  const desc = `${sender} sent ${bytesWords(sent)} in ${d.segmentCount} data segment${d.segmentCount === 1 ? '' : 's'} from ${f.x0.toFixed(3)} s to ${f.x1.toFixed(3)} s${present.length ? `; ${present.map(([k, n]) => `${n} ${n === 1 ? k.name : k.many}`).join(', ')}` : '; none retransmitted or out of order'}. ${receiver} sent ${d.ackCount} ACKs${sacks ? `, ${sacks} with SACK blocks` : ''}${zeroWindows ? `, ${zeroWindows} with a zero window` : ''}; its window edge reached byte ${Math.round(edgeMax)}${clipped ? ' (above the chart, which follows the data)' : ''}.${d.thinned ? ' Long transfer: ordinary segments and ACKs thinned to fit the chart; flagged ones kept.' : ''}${axisWords(f)}`;
  const parts = [open('time-sequence', W, H, title, desc), `<text x="${W / 2}" y="16" text-anchor="middle" font-weight="bold">${esc(title)}</text>`];
  parts.push(legend([['data', DATA, 'bar'], ...present.map(([k]) => [k.name, k.color, 'bar'] as [string, string, string]), ['ACK', ACK_LINE, 'line'], [`window edge${clipped ? ' (clipped)' : ''}`, WINDOW_LINE, 'line'], ...(sacks ? [['SACK', SACK, 'bar'] as [string, string, string]] : []), ...(zeroWindows ? [['zero window', '#dc2626', 'diamond'] as [string, string, string]] : [])]));
  parts.push(axes(f, ys, Y, 'relative sequence number (bytes)', fmt));
  if (winPath) parts.push(`<path d="${winPath}" fill="none" stroke="${WINDOW_LINE}" stroke-width="1.2"/>`);
  if (ackPath) parts.push(`<path class="mark ack-line" d="${ackPath}" fill="none" stroke="${ACK_LINE}" stroke-width="1.4"/>`);
  if (bars) parts.push(`<path class="mark segments" data-segments="${d.segmentCount}" d="${bars}" stroke="${DATA}" stroke-width="1.2"/>`);
  if (sackPath) parts.push(`<path class="mark sack" d="${sackPath}" stroke="${SACK}" stroke-width="1.5"/>`);
  parts.push(...flagged, ...zero);
  if (d.segmentCount === 0) parts.push(`<text x="${W / 2}" y="${M.t + PH / 2}" text-anchor="middle" fill="#555">${esc(`${sender} sent no data in this direction`)}</text>`);
  parts.push('</svg>');
  return parts.join('');
}

export interface Flight {
  /** Per pixel column: the most bytes in flight, and the smallest receiver's window, with the column's time. */
  points: Array<{ t: number; flight: number; window: number }>;
  maxFlight: number;
  /** Share of data segments sent with the flight within 10 % of the receiver's window (0..1; null: none sent). */
  windowLimited: number | null;
}

/**
 * Bytes in flight after each data segment and ACK, in capture order: the highest byte sent, less
 * the receiver's ACK, less what its latest SACK blocks say arrived above it; against its window.
 */
export function flight(d: DirectionTrace): Flight {
  const f = frameOf(d);
  const cols = new Map<number, { t: number; flight: number; window: number }>();
  let sndNxt = -1;
  let ack = -1;
  let win = -1;
  let sack: Array<[number, number]> = [];
  let i = 0;
  let j = 0;
  let maxFlight = 0;
  let sentSegs = 0;
  let limited = 0;
  const inFlight = (): number => {
    if (sndNxt < 0 || ack < 0) return 0;
    let sacked = 0;
    for (const [l, r] of sack) sacked += Math.max(0, Math.min(r, sndNxt) - Math.max(l, ack));
    return Math.max(0, sndNxt - ack - sacked);
  };
  const note = (t: number): void => {
    const fl = inFlight();
    if (fl > maxFlight) maxFlight = fl;
    const c = f.col(t);
    const v = cols.get(c);
    if (!v) cols.set(c, { t, flight: fl, window: win < 0 ? NaN : win });
    else { if (fl > v.flight) v.flight = fl; if (win >= 0 && !(win >= v.window)) v.window = win; }
  };
  // the highest byte sent: an ACK beyond it acknowledges what the capture never saw (see timeSequenceSvg)
  let top = -1;
  for (let k = 0; k < d.segments.n; k++) { const [, seq, len] = d.segment(k); if (seq + len > top) top = seq + len; }
  // segments and ACKs merge by frame number (capture order)
  while (i < d.segments.n || j < d.acks.n) {
    const seg = i < d.segments.n ? d.segment(i) : null;
    const a = j < d.acks.n ? d.ack(j) : null;
    if (seg && (!a || seg[4] < a.frame)) {
      const [t, seq, len] = seg;
      if (seq + len > sndNxt) sndNxt = seq + len;
      if (ack < 0) ack = seq;
      i++;
      const fl = inFlight();
      sentSegs++;
      if (win > 0 && fl >= 0.9 * win) limited++;
      note(t);
    } else if (a) {
      if (a.ack > ack && a.ack <= top + 1) ack = a.ack;
      win = a.window;
      sack = a.sack;
      j++;
      note(a.t);
    }
  }
  const points = [...cols.entries()].sort((x, y) => x[0] - y[0]).map(([, v]) => v);
  return { points, maxFlight, windowLimited: sentSegs ? limited / sentSegs : null };
}

/** The bytes-in-flight chart of one direction, with its reading in words (for the page as well). */
export function flightSvg(d: DirectionTrace, title: string, sender: string, receiver: string): { svg: string; words: string } {
  const fl = flight(d);
  const f = frameOf(d);
  const wins = fl.points.map((p) => p.window).filter((v) => v === v);
  // the window is drawn whole, however far above the flight: how far is the lesson
  const ymax = Math.max(1, fl.maxFlight, ...wins);
  const ys = ticks(ymax);
  const ytop = ys[ys.length - 1]!;
  const Y = (v: number): number => M.t + PH - (Math.min(v, ytop) / ytop) * PH;
  const minWin = wins.length ? Math.min(...wins) : null;
  const share = fl.windowLimited;
  const words = share === null
    ? `${sender} sent no data to ${receiver} here.`
    : `At most ${bytesWords(fl.maxFlight)} were in flight from ${sender}; ${receiver}'s window was ${minWin === null ? 'not seen' : `at least ${bytesWords(minWin)}`}. ${share >= 0.5
      ? `${Math.round(share * 100)} % of the data segments left with the flight within 10 % of the window: ${receiver}'s window limited ${sender} (the receiver is the bottleneck).`
      : `${Math.round(share * 100)} % of the data segments left with the flight within 10 % of the window: the window was not what limited ${sender}; its congestion window (the network) or the application set the pace.`}`;
  const parts = [open('bytes-in-flight', W, H, title, words + axisWords(f)), `<text x="${W / 2}" y="16" text-anchor="middle" font-weight="bold">${esc(title)}</text>`];
  parts.push(legend([['bytes in flight (SACKed bytes taken out)', '#2563eb', 'line'], [`${receiver}'s window`, WINDOW_LINE, 'line']]));
  parts.push(axes(f, ys, Y, 'bytes', fmt));
  // steps: each value holds until the next event
  const line = (key: 'flight' | 'window'): string => fl.points.filter((p) => p[key] === p[key]).map((p, k) => (k ? `H${f.X(p.t).toFixed(1)}V${Y(p[key]).toFixed(1)}` : `M${f.X(p.t).toFixed(1)},${Y(p[key]).toFixed(1)}`)).join('');
  const w = line('window');
  if (w) parts.push(`<path d="${w}" fill="none" stroke="${WINDOW_LINE}" stroke-width="1.4"/>`);
  const p = line('flight');
  if (p) parts.push(`<path class="mark flight" data-points="${fl.points.length}" d="${p}" fill="none" stroke="#2563eb" stroke-width="1.4"/>`);
  else parts.push(`<text x="${W / 2}" y="${M.t + PH / 2}" text-anchor="middle" fill="#555">no data segments</text>`);
  parts.push('</svg>');
  return { svg: parts.join(''), words };
}
