/**
 * Charts as self-contained SVG strings (no scripts, no fonts to fetch): a ladder diagram, bar
 * histograms, line charts over time, and the experiment's timeline. Every chart carries a class
 * `chart` and a data-kind attribute, a <title> naming it and a <desc> saying in words what it
 * shows (its text alternative, both referenced by aria-labelledby), and draws at least one mark per
 * data point it was given.
 */
import type { ConnectionReport } from '../analyze.ts';
import type { AppReport } from '../app/index.ts';

export const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const FONT = 'font-family="system-ui, sans-serif" font-size="11"';
const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4d7c0f', '#be185d'];

/** An id for a chart's title and description, from its title (titles are unique within a report). */
const slug = (s: string): string => s.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80);

/** The opening of a chart: its <title>, its <desc> (the text alternative) and a white ground. */
export function open(kind: string, w: number, h: number, title: string, desc: string): string {
  const id = `chart-${slug(`${kind} ${title}`)}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-kind="${kind}" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-labelledby="${id}-t ${id}-d" ${FONT}><title id="${id}-t">${esc(title)}</title><desc id="${id}-d">${esc(desc)}</desc><rect width="${w}" height="${h}" fill="#fff"/>`;
}

/** "Nice" tick values covering [0, max]. */
export function ticks(max: number, n = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + step * 0.999; v += step) out.push(+v.toPrecision(6));
  return out;
}

/** Tick label alignment: the first starts at its tick, the last ends at it, the others centre on it. */
export const edgeAnchor = (i: number, last: number): string => (i === 0 ? 'start' : i === last ? 'end' : 'middle');

export const fmt = (v: number): string => (Math.abs(v) >= 1e6 ? `${+(v / 1e6).toPrecision(3)}M` : Math.abs(v) >= 1e4 ? `${+(v / 1e3).toPrecision(3)}k` : `${+v.toPrecision(3)}`);

/** A ladder step's window as a student needs it: a SYN's is never scaled; later ones are the field times 2^WS. */
export function windowWords(s: { flags: string; window: number; windowScale: number | null }): string {
  if (s.flags.includes('SYN')) return `win=${s.window} (a SYN's window is not scaled)`;
  if (s.windowScale === null) return `win=${s.window} (scale unknown: the SYNs were not captured)`;
  return s.windowScale === 1 ? `win=${s.window}` : `win=${s.window}×${s.windowScale}=${s.window * s.windowScale}`;
}

/** Ladder (sequence) diagram of a connection's handshake and teardown. */
export function ladderSvg(c: ConnectionReport, clientLabel: string, serverLabel: string): string {
  const steps = c.ladder;
  const w = 760;
  const rowH = 56;
  const top = 66;
  const h = top + Math.max(1, steps.length) * rowH + 24;
  const xc = 190;
  const xs = 610;
  const desc = steps.length
    ? `${steps.length} packets: ${steps.map((s) => `frame ${s.frame} ${s.fromClient ? `${clientLabel}→${serverLabel}` : `${serverLabel}→${clientLabel}`} ${s.flags} at ${(s.t * 1000).toFixed(3)} ms`).join('; ')}`
    : 'no handshake or teardown packets in the capture';
  const parts = [open('ladder', w, h, `Handshake and teardown of tcp.stream ${c.index}`, desc)];
  parts.push(`<text x="${xc}" y="20" text-anchor="middle" font-weight="bold">${esc(clientLabel)}</text><text x="${xc}" y="36" text-anchor="middle" fill="#555">${esc(`${c.client.ip}:${c.client.port}`)}</text>`);
  parts.push(`<text x="${xs}" y="20" text-anchor="middle" font-weight="bold">${esc(serverLabel)}</text><text x="${xs}" y="36" text-anchor="middle" fill="#555">${esc(`${c.server.ip}:${c.server.port}`)}</text>`);
  parts.push(`<line x1="${xc}" y1="${top - 10}" x2="${xc}" y2="${h - 10}" stroke="#333" stroke-width="2"/><line x1="${xs}" y1="${top - 10}" x2="${xs}" y2="${h - 10}" stroke="#333" stroke-width="2"/>`);
  parts.push('<defs><marker id="arr" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>');
  steps.forEach((s, i) => {
    const y0 = top + i * rowH;
    const y1 = y0 + 26;
    const [xa, xb] = s.fromClient ? [xc, xs] : [xs, xc];
    const color = s.flags.includes('RST') ? '#dc2626' : s.flags.includes('SYN') ? '#2563eb' : s.flags.includes('FIN') ? '#9333ea' : '#333';
    parts.push(`<g class="mark" data-frame="${s.frame}"><line x1="${xa}" y1="${y0}" x2="${xb}" y2="${y1}" stroke="${color}" stroke-width="1.6" marker-end="url(#arr)"/>`);
    const label = `${s.flags}  seq=${s.seq}${s.flags.includes('ACK') ? ` ack=${s.ack}` : ''}${s.len ? ` len=${s.len}` : ''}  ${windowWords(s)}`;
    // the label and the options under it sit above their arrow, which only descends: no line crosses them
    parts.push(`<text x="${(xa + xb) / 2}" y="${y0 - (s.options ? 17 : 4)}" text-anchor="middle" fill="${color}">${esc(label)}</text>`);
    if (s.options) parts.push(`<text x="${(xa + xb) / 2}" y="${y0 - 4}" text-anchor="middle" fill="#555">${esc(s.options)}</text>`);
    parts.push(`<text x="${xc - 12}" y="${s.fromClient ? y0 + 4 : y1 + 4}" text-anchor="end" fill="#555">${esc(`${(s.t * 1000).toFixed(3)} ms · #${s.frame}`)}</text></g>`);
  });
  if (steps.length === 0) parts.push(`<text x="${w / 2}" y="${top + 20}" text-anchor="middle" fill="#555">no handshake or teardown packets in the capture</text>`);
  parts.push('</svg>');
  return parts.join('');
}

/** The frame both charts share: title, a y axis from 0 with gridlines at "nice" ticks, the plot area. */
function plot(kind: string, title: string, desc: string, ymax: number, bottom: number) {
  const w = 560;
  const h = 260;
  const m = { l: 66, r: 12, t: 28, b: bottom };
  const pw = w - m.l - m.r;
  const ph = h - m.t - m.b;
  const ys = ticks(ymax);
  const ytop = ys[ys.length - 1]!;
  const Y = (v: number): number => m.t + ph - (v / ytop) * ph;
  const parts = [open(kind, w, h, title, desc), `<text x="${w / 2}" y="16" text-anchor="middle" font-weight="bold">${esc(title)}</text>`];
  for (const v of ys) parts.push(`<line x1="${m.l}" x2="${w - m.r}" y1="${Y(v)}" y2="${Y(v)}" stroke="#eee"/><text x="${m.l - 6}" y="${Y(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
  /** The x axis and both axis labels; closes the SVG. */
  const close = (xLabel: string, yLabel: string): string => {
    parts.push(`<line x1="${m.l}" y1="${m.t + ph}" x2="${w - m.r}" y2="${m.t + ph}" stroke="#333"/>`);
    parts.push(`<text x="${w / 2}" y="${h - 4}" text-anchor="middle" fill="#555">${esc(xLabel)}</text><text x="14" y="${m.t + ph / 2}" text-anchor="middle" fill="#555"${yLabel.length * 6.5 > ph ? ` font-size="${Math.max(8, Math.floor((ph / yLabel.length) * 1.6))}"` : ''} transform="rotate(-90 14 ${m.t + ph / 2})">${esc(yLabel)}</text></svg>`);
    return parts.join('');
  };
  return { w, h, m, pw, ph, Y, parts, close };
}

export interface Bar { label: string; value: number }

/** Vertical bar chart (histograms). */
export function barsSvg(kind: string, title: string, bars: Bar[], xLabel: string, yLabel: string): string {
  const top = bars.reduce((a, b) => (b.value > a.value ? b : a), { label: '', value: -1 });
  const desc = bars.length ? `${bars.length} bars of ${yLabel} by ${xLabel}, ${bars[0]!.label} to ${bars[bars.length - 1]!.label}, ${bars.reduce((n, b) => n + b.value, 0)} in all; the tallest: ${top.label} (${top.value})` : `no ${yLabel}`;
  const { m, pw, ph, Y, parts, close } = plot(kind, title, desc, Math.max(1, ...bars.map((b) => b.value)), 56);
  const bw = pw / Math.max(1, bars.length);
  bars.forEach((b, i) => {
    const bh = m.t + ph - Y(b.value);
    const x = m.l + i * bw;
    parts.push(`<rect class="mark" x="${x + 1}" y="${m.t + ph - bh}" width="${Math.max(1, bw - 2)}" height="${Math.max(b.value > 0 ? 1 : 0, bh)}" fill="#2563eb"><title>${esc(`${b.label}: ${b.value}`)}</title></rect>`);
    if (bars.length <= 12 || i % Math.ceil(bars.length / 10) === 0) parts.push(`<text x="${x + bw / 2}" y="${m.t + ph + 14}" text-anchor="middle" transform="rotate(30 ${x + bw / 2} ${m.t + ph + 14})">${esc(b.label)}</text>`);
  });
  return close(xLabel, yLabel);
}

export interface ChartLine { name: string; points: Array<[number, number]>; dots?: boolean }

/** Line chart over time; several series share the axes. */
export function linesSvg(kind: string, title: string, series: ChartLine[], xLabel: string, yLabel: string): string {
  const all = series.flatMap((s) => s.points);
  const xmax = Math.max(1e-9, ...all.map((p) => p[0]));
  const xmin = Math.min(xmax, ...all.map((p) => p[0]));
  const { w, h, m, pw, ph, Y, parts, close } = plot(kind, title, linesDesc(series, xLabel, yLabel), Math.max(1e-9, ...all.map((p) => p[1])), 44);
  const X = (v: number): number => m.l + ((v - xmin) / Math.max(1e-9, xmax - xmin)) * pw;
  for (let i = 0; i <= 4; i++) {
    const v = xmin + ((xmax - xmin) * i) / 4;
    // the end labels align inward, so the chart's edge cuts neither
    parts.push(`<text x="${X(v)}" y="${m.t + ph + 14}" text-anchor="${edgeAnchor(i, 4)}">${fmt(v)}</text>`);
  }
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    if (s.points.length > 1) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${s.points.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ')}"/>`);
    if (s.dots !== false || s.points.length === 1) for (const [x, y] of s.points) parts.push(`<circle class="mark" cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="2" fill="${color}"/>`);
    else parts.push(`<g class="mark" data-points="${s.points.length}"></g>`);
    parts.push(`<rect x="${m.l + 8 + i * 150}" y="${m.t + 2}" width="10" height="10" fill="${color}"/><text x="${m.l + 22 + i * 150}" y="${m.t + 11}">${esc(s.name)}</text>`);
  });
  if (all.length === 0) parts.push(`<text x="${w / 2}" y="${h / 2}" text-anchor="middle" fill="#555">no samples</text>`);
  parts.push(`<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${m.t + ph}" stroke="#333"/>`);
  return close(xLabel, yLabel);
}

/** A line chart in words: each series' samples, time span, and range of values. */
function linesDesc(series: ChartLine[], xLabel: string, yLabel: string): string {
  const parts = series.map((s) => {
    if (s.points.length === 0) return `${s.name}: no samples`;
    const ys = s.points.map((p) => p[1]);
    return `${s.name}: ${s.points.length} samples from ${fmt(s.points[0]![0])} to ${fmt(s.points[s.points.length - 1]![0])}, ${fmt(Math.min(...ys))} to ${fmt(Math.max(...ys))}`;
  });
  return `${yLabel} against ${xLabel}. ${parts.join('; ')}`;
}

const TYPE_COLOR: Record<string, string> = {
  HELLO: '#2563eb', WELCOME: '#2563eb', PRESENCE: '#94a3b8', ONLINE: '#94a3b8', WHO: '#94a3b8', CLIENTS: '#94a3b8', LIST: '#0891b2', CATALOG: '#0891b2', PLAY: '#16a34a', PLAYED: '#4d7c0f',
  STREAM_START: '#16a34a', STREAM_END: '#16a34a', RECEIVED: '#16a34a', STREAM_ABORT: '#dc2626', UPLOAD: '#ea580c', UPLOAD_DONE: '#ea580c', READY: '#ea580c',
  LISTEN: '#9333ea', PLAY_ON: '#9333ea', SEND_TO: '#be185d', INVITE: '#9333ea', ACCEPT: '#9333ea', REFUSE: '#dc2626', OK: '#64748b', ERROR: '#dc2626', BYE: '#334155',
};
const STREAM_COLOR: Record<string, string> = { play: '#16a34a', 'play-on': '#9333ea', relay: '#be185d', upload: '#ea580c', 'send-to': '#be185d' };

/** The whole experiment: one lane per client, its messages as ticks and its streams as bars. */
export function timelineSvg(app: AppReport, duration: number): string {
  const lanes = app.clients.map((c) => ({ conn: c.conn, name: c.name ?? c.asked ?? `${c.ip}:${c.port}` }));
  const w = 960;
  const laneH = 64;
  const m = { l: 110, r: 16, t: 30, b: 36 };
  const h = m.t + Math.max(1, lanes.length) * laneH + m.b;
  const pw = w - m.l - m.r;
  const end = Math.max(duration, ...app.timeline.map((e) => e.t), 1e-6);
  const X = (t: number): number => m.l + (t / end) * pw;
  const desc = `${lanes.length} clients over ${(end * 1000).toFixed(0)} ms: ${lanes.map((l) => `${l.name} ${app.timeline.filter((e) => e.conn === l.conn).length} messages, ${app.streams.filter((s) => s.conn === l.conn).length} streams`).join('; ')}`;
  const parts = [open('timeline', w, h, 'Timeline of the experiment', desc), `<text x="${w / 2}" y="16" text-anchor="middle" font-weight="bold">What each client did, and when</text>`];
  for (let i = 0; i <= 8; i++) {
    const t = (end * i) / 8;
    parts.push(`<line x1="${X(t)}" x2="${X(t)}" y1="${m.t}" y2="${h - m.b}" stroke="#eee"/><text x="${X(t)}" y="${h - m.b + 14}" text-anchor="${edgeAnchor(i, 8)}">${(t * 1000).toFixed(t * 1000 < 10 ? 1 : 0)} ms</text>`);
  }
  lanes.forEach((lane, i) => {
    const y = m.t + i * laneH;
    parts.push(`<text x="${m.l - 8}" y="${y + laneH / 2 + 4}" text-anchor="end" font-weight="bold">${esc(lane.name)}</text><line x1="${m.l}" x2="${w - m.r}" y1="${y + laneH - 2}" y2="${y + laneH - 2}" stroke="#ddd"/>`);
    for (const s of app.streams.filter((x) => x.conn === lane.conn)) {
      const x0 = X(s.start);
      const x1 = Math.max(x0 + 2, X(s.end));
      parts.push(`<rect class="mark" x="${x0}" y="${y + 34}" width="${x1 - x0}" height="14" rx="3" fill="${STREAM_COLOR[s.kind] ?? '#555'}" opacity="0.8"><title>${esc(`${s.kind} ${s.song}: ${s.bytes} bytes in ${s.durationMs.toFixed(1)} ms`)}</title></rect>`);
      if (x1 - x0 > 70) parts.push(`<text x="${x0 + 3}" y="${y + 60}" fill="#333" font-size="9">${esc(`${s.kind} ${s.song}`.slice(0, Math.floor((x1 - x0) / 5)))}</text>`);
    }
    for (const e of app.timeline.filter((x) => x.conn === lane.conn)) {
      const x = X(e.t);
      const up = e.dir === 'c2s';
      parts.push(`<line class="mark" x1="${x}" x2="${x}" y1="${y + (up ? 6 : 18)}" y2="${y + (up ? 18 : 30)}" stroke="${TYPE_COLOR[e.type] ?? '#333'}" stroke-width="2"><title>${esc(`${(e.t * 1000).toFixed(2)} ms #${e.frame} ${up ? 'client→server' : 'server→client'}: ${e.text}`)}</title></line>`);
    }
  });
  if (lanes.length === 0) parts.push(`<text x="${w / 2}" y="${m.t + 30}" text-anchor="middle" fill="#555">no audiolab protocol in this capture</text>`);
  parts.push(`<text x="${m.l}" y="${h - 6}" fill="#555">ticks: messages (upper row client→server, lower row server→client) · bars: streams (green play, purple play-on, pink relay, orange upload)</text></svg>`);
  return parts.join('');
}
