/**
 * The report a person reads after a run: report.html (one self-contained file, charts inline as
 * SVG), report.md (for a code forge, charts as linked SVG files in charts/), report.json (the full
 * analysis) and a short terminal summary. Each finding names the Wireshark display filter that
 * shows it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConnectionReport, DirectionReport } from '../analyze.ts';
import type { FullAnalysis } from '../app/index.ts';
import { capturePoint } from '../app/manifest.ts';
import type { FlagName } from '../tcp/flags.ts';
import { barsSvg, esc, ladderSvg, linesSvg, timelineSvg } from './svg.ts';
import { flightSvg, timeSequenceSvg } from './timeseq.ts';
import { traceConnections, type ConnectionTrace } from '../tcp/trace.ts';
import { findings, headline, impairmentWords, label, ms, retransmissionWords } from './findings.ts';
import { CAUSES, RULE_WORDS, type Rule } from '../tcp/causes.ts';

export interface Chart {
  id: string;
  title: string;
  svg: string;
  /** What the chart shows, in words, for the page beside it (every chart also has it as its <desc>). */
  words?: string;
}


const bytes = (n: number): string => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);
const mbps = (bps: number): string => `${(bps / 1e6).toFixed(1)} Mbit/s`;




function histogramBars(d: DirectionReport): Array<{ label: string; value: number }> {
  return d.segmentSize.histogram.map((b) => ({ label: b.from === b.to ? `${b.from}` : `${b.from}–${b.to}`, value: b.count }));
}

/** Connections drawn in detail: all of a lab run's; on a big capture, the busiest (tables list all). */
export const MAX_DETAILED = 24;
export function detailed(r: FullAnalysis): ConnectionReport[] {
  if (r.connections.length <= MAX_DETAILED) return r.connections;
  const payload = (c: ConnectionReport): number => c.clientToServer.payloadBytes + c.serverToClient.payloadBytes;
  const keep = new Set([...r.connections].sort((a, b) => payload(b) - payload(a)).slice(0, MAX_DETAILED).map((c) => c.index));
  return r.connections.filter((c) => keep.has(c.index));
}

/**
 * Every chart of the report. `traces` (tcp/trace.ts, a second read of the capture) gives the
 * time–sequence and bytes-in-flight charts of the drawn connections; without it (a capture read
 * from standard input cannot be read twice) those are left out and the report says so.
 */
export function charts(r: FullAnalysis, traces: Map<number, ConnectionTrace> | null = null): Chart[] {
  const out: Chart[] = [];
  if (r.app.clients.length) out.push({ id: 'timeline', title: 'Timeline of the experiment', svg: timelineSvg(r.app, r.capture.duration) });
  for (const c of detailed(r)) {
    const l = label(r, c);
    out.push({ id: `ladder-${c.index}`, title: `tcp.stream ${c.index}: handshake and teardown`, svg: ladderSvg(c, l.client, l.server) });
    const tr = traces?.get(c.index);
    if (tr) {
      const dirs = ([['c2s', tr.c2s, l.client, l.server], ['s2c', tr.s2c, l.server, l.client]] as const);
      // each direction that carried data; a connection without any still gets its (empty) graph
      const drawn = dirs.filter(([, d]) => d.segmentCount > 0);
      for (const [k, d, from, to] of drawn.length ? drawn : dirs.slice(0, 1)) {
        const tsTitle = `Time–sequence graph, ${from}→${to} (tcp.stream ${c.index})`;
        out.push({ id: `tsg-${c.index}-${k}`, title: tsTitle, svg: timeSequenceSvg(d, tsTitle, from, to) });
        if (d.segmentCount === 0) continue;
        const flTitle = `Bytes in flight and ${to}'s window, ${from}→${to} (tcp.stream ${c.index})`;
        const fl = flightSvg(d, flTitle, from, to);
        out.push({ id: `flight-${c.index}-${k}`, title: flTitle, svg: fl.svg, words: fl.words });
      }
    }
    out.push({ id: `sizes-${c.index}-c2s`, title: `tcp.stream ${c.index}: segment sizes ${l.client}→${l.server}`, svg: barsSvg('histogram', `Segment sizes, ${l.client}→${l.server} (tcp.stream ${c.index}, payload bytes)`, histogramBars(c.clientToServer), 'payload bytes per segment', 'segments') });
    out.push({ id: `sizes-${c.index}-s2c`, title: `tcp.stream ${c.index}: segment sizes ${l.server}→${l.client}`, svg: barsSvg('histogram', `Segment sizes, ${l.server}→${l.client} (tcp.stream ${c.index}, payload bytes)`, histogramBars(c.serverToClient), 'payload bytes per segment', 'segments') });
    const tp = (d: DirectionReport): Array<[number, number]> => d.throughput.bytesPerBin.map((b, i) => [c.start + (i + 0.5) * d.throughput.binSeconds, (b * 8) / d.throughput.binSeconds / 1e6]);
    out.push({ id: `throughput-${c.index}`, title: `tcp.stream ${c.index}: throughput over time`, svg: linesSvg('throughput', `Throughput, tcp.stream ${c.index} (Mbit/s)`, [{ name: `${l.client}→${l.server}`, points: tp(c.clientToServer), dots: false }, { name: `${l.server}→${l.client}`, points: tp(c.serverToClient), dots: false }], 'seconds since the capture began', 'Mbit/s') });
    out.push({ id: `rtt-${c.index}`, title: `tcp.stream ${c.index}: RTT over time`, svg: linesSvg('rtt', `RTT samples, tcp.stream ${c.index} (ms)`, [{ name: `data ${l.client}→${l.server}`, points: c.clientToServer.rtt.series.map(([t, v]) => [c.start + t, v]) }, { name: `data ${l.server}→${l.client}`, points: c.serverToClient.rtt.series.map(([t, v]) => [c.start + t, v]) }], 'seconds since the capture began', 'ms (data segment → its ACK)') });
  }
  r.app.relays.forEach((rl, i) => {
    if (rl.delayMs) out.push({ id: `relay-${i}`, title: `Relay ${rl.song}: time each chunk spent in the server`, svg: linesSvg('relay-delay', `Relay ${rl.from}→server→${rl.to}: per-chunk delay in the server (ms)`, [{ name: rl.song, points: rl.delayMs.series }], 'seconds since the capture began', 'ms in the server') });
  });
  return out;
}

/** A connection's time–sequence and bytes-in-flight charts, in the order drawn. */
const traceCharts = (cs: Chart[], conn: number): Chart[] => cs.filter((c) => c.id.startsWith(`tsg-${conn}-`) || c.id.startsWith(`flight-${conn}-`));

interface Table { head: string[]; rows: string[][] }

function tables(r: FullAnalysis): Record<string, Table> {
  const conns: Table = {
    head: ['stream', 'client', 'server', 'state', 'iRTT', 'MSS c/s', 'WS c/s', 'SACK', 'packets c→s / s→c', 'payload c→s / s→c', 'filter'],
    rows: r.connections.map((c) => {
      const l = label(r, c);
      const n = c.handshake.negotiated;
      return [String(c.index), `${l.client} ${c.client.ip}:${c.client.port}`, `${c.server.ip}:${c.server.port}`, `${c.state} ${c.history}`, c.handshake.initialRttMs === null ? '—' : `${c.handshake.initialRttMs.toFixed(3)} ms`,
        `${c.handshake.mss.client ?? '—'} / ${c.handshake.mss.server ?? '—'}`, n.windowScaling ? `${n.clientShift} / ${n.serverShift}` : 'off', n.sack ? 'yes' : 'no',
        `${c.clientToServer.packets} / ${c.serverToClient.packets}`, `${bytes(c.clientToServer.payloadBytes)} / ${bytes(c.serverToClient.payloadBytes)}`, c.filter];
    }),
  };
  const sizes: Table = {
    head: ['stream', 'direction', 'data segments', 'min', 'p50', 'p90', 'max', 'most common sizes', 'above MSS'],
    rows: r.connections.flatMap((c) => {
      const l = label(r, c);
      return ([[`${l.client}→${l.server}`, c.clientToServer], [`${l.server}→${l.client}`, c.serverToClient]] as const).map(([name, d]) => [String(c.index), name, String(d.dataSegments), String(d.segmentSize.min), String(d.segmentSize.p50), String(d.segmentSize.p90), String(d.segmentSize.max), d.segmentSize.top.slice(0, 3).map((t) => `${t.value}×${t.count}`).join(', '), String(d.aboveMss)]);
    }),
  };
  const flagNames = Object.keys(r.flagFilters) as FlagName[];
  const flags: Table = {
    head: ['stream', 'direction', ...flagNames],
    rows: r.connections.flatMap((c) => {
      const l = label(r, c);
      return ([[`${l.client}→${l.server}`, c.clientToServer], [`${l.server}→${l.client}`, c.serverToClient]] as const).map(([name, d]) => [String(c.index), name, ...flagNames.map((f) => String(d.flags[f]))]);
    }),
  };
  const streams: Table = {
    head: ['client', 'kind', 'song', 'peer', 'bytes', 'chunks', 'start', 'duration', 'throughput', 'status', 'intact', 'filter'],
    rows: r.app.streams.map((s) => [s.client, `${s.kind} (${s.dir === 's2c' ? 'to the client' : 'to the server'})`, s.song, s.peer ?? '', `${bytes(s.bytes)} of ${bytes(s.size - s.offset)}`, String(s.chunks), ms(s.start), `${s.durationMs.toFixed(1)} ms`, mbps(s.throughputBps), s.status + (s.abort ? ` (${s.abort.code})` : ''), s.intact === null ? 'unknown (capture lacks bytes)' : s.intact ? 'yes (sha256)' : 'NO', s.filter]),
  };
  /** A stream id (`conn/dir/streamId`) as a student reads it: stream 1 of tcp.stream 0, server→client. */
  const transferWords = (id: string | null): string => {
    if (!id) return 'none (played from the cache)';
    const [conn, dir, streamId] = id.split('/');
    return `stream ${streamId} on tcp.stream ${conn} (${dir === 's2c' ? 'server→client' : 'client→server'})`;
  };
  const plays: Table = {
    head: ['client', 'song', 'when', 'source', 'transfer'],
    rows: r.app.plays.map((p) => [p.client, p.song, ms(p.t), p.source === 'cache' ? 'cache (no network transfer)' : p.resumedFrom ? `network, resumed at byte ${p.resumedFrom}` : 'network', transferWords(p.stream)]),
  };
  const relays: Table = {
    head: ['kind', 'song', 'from', 'to', 'bytes in / out', 'content matched', 'intact', 'delay in server p50 / p95 / max', 'stalls'],
    rows: r.app.relays.map((rl) => [rl.kind, rl.song, rl.kind === 'play-on' ? `server library (asked by ${rl.from})` : rl.from, rl.to, `${rl.kind === 'play-on' ? 'library (no network leg)' : bytes(rl.bytesIn)} / ${bytes(rl.bytesOut)}`, rl.contentMatched === null ? 'unknown (the capture lacks bytes)' : rl.contentMatched ? (rl.kind === 'play-on' ? 'yes (the library song\'s sha256)' : 'yes (same sha256 on both legs)') : 'NO', rl.intact === null ? 'unknown (the capture lacks bytes)' : rl.intact ? 'yes' : 'NO',
      rl.delayMs ? `${rl.delayMs.p50.toFixed(3)} / ${rl.delayMs.p95.toFixed(3)} / ${rl.delayMs.max.toFixed(3)} ms (${rl.delayMs.samples} chunks)` : '—', rl.stalls.length ? rl.stalls.map((s) => `${s.durationMs.toFixed(0)} ms: ${s.cause}`).join('; ') : 'none']),
  };
  const causes: Table = {
    head: ['stream', 'direction', 'retransmissions', ...CAUSES],
    rows: r.connections.flatMap((c) => {
      const l = label(r, c);
      return ([[`${l.client}→${l.server}`, c.clientToServer], [`${l.server}→${l.client}`, c.serverToClient]] as const)
        .filter(([, d]) => d.flags.retransmission > 0)
        .map(([name, d]) => [String(c.index), name, String(d.flags.retransmission), ...CAUSES.map((k) => String(d.retransmissionCauses[k]))]);
    }),
  };
  const messages: Table = {
    head: ['message', 'count'],
    rows: Object.entries(r.app.messageCounts).map(([k, v]) => [k, String(v)]),
  };
  return { conns, sizes, flags, causes, streams, plays, relays, messages };
}

const NO_TRACE = 'The time–sequence and bytes-in-flight graphs need a second read of the capture: they are drawn when the capture is a file (not standard input).';

const READING = [
  ['The three-way handshake', 'Each connection starts with SYN (client), SYN-ACK (server), ACK (client): see the ladder diagrams. The time from the SYN to that last ACK is the initial RTT (iRTT). Both SYNs carry options: MSS (the largest segment each side accepts), window scale (WS) and SACK permission.'],
  ['Segment sizes', 'Bulk transfers fill segments up to the MSS; the histograms show a tall bar at the MSS and smaller segments at the ends of writes. Segments larger than the MSS mean the capture saw them before the network card (or kernel) split them: offloads were on.'],
  ['The time–sequence graph', 'As tcptrace draws it: time to the right, sequence numbers up. Each data segment is a vertical bar from its first byte to its last; a steady climb is a steady transfer, its slope the throughput. The green ACK line follows below (what the receiver has), the yellow window edge above (ACK + window: the most the sender may send). Retransmissions (red, orange for fast, magenta for spurious) sit back at bytes already sent; SACK blocks (purple) show what arrived beyond a hole; diamonds mark zero windows. Slow start curves upward; a loss shows a flat spell then a red bar.'],
  ['Bytes in flight', 'Bytes sent and not yet acknowledged (SACKed bytes taken out), against the receiver\'s window. When the flight reaches the window, the receiver limits the sender; when it stays below, the congestion window (the network) or the application does.'],
  ['Retransmissions and friends', 'A retransmission sends bytes again; duplicate ACKs before a fast retransmission show the receiver asking for the missing byte. Each finding below has the Wireshark display filter that lists exactly those packets.'],
  ['The streams', 'Songs travel as DATA frames of our protocol inside the TCP byte stream. Each transfer is checked against the sha256 its sender announced.'],
  ['The relay', 'In a relay, client A sends its song to the server, which forwards each chunk to client B. The per-chunk delay is the time between the chunk\'s last byte arriving from A and its first byte leaving for B, both seen at the server.'],
];

/** Retransmissions told one by one in a connection's section (report.json has the first 100 per direction). */
const TOLD = 20;

/** Each retransmission of a connection, sender by sender, in words: [direction, frame, cause, words]. */
function toldRetransmissions(r: FullAnalysis, c: ConnectionReport): Table {
  const l = label(r, c);
  const rows = ([[c.clientToServer, l.client, l.server], [c.serverToClient, l.server, l.client]] as const).flatMap(([d, from, to]) => {
    const told = d.retransmissions.slice(0, TOLD).map((x) => [`${from}→${to}`, String(x.frame), x.cause, retransmissionWords(x, from, to)]);
    const more = d.flags.retransmission - told.length;
    return more > 0 ? [...told, [`${from}→${to}`, '…', '', `and ${more} more (the first ${d.retransmissions.length} are in report.json; all: tcp.stream eq ${c.index} && tcp.analysis.retransmission)`]] : told;
  });
  return { head: ['direction', 'frame', 'cause', 'what happened'], rows };
}

/** The cause rules in the order they are tried, in plain words. */
const RULES = (Object.entries(RULE_WORDS) as Array<[Rule, string]>).map(([k, v]) => `${k}: ${v}`);

/** A table; `cls` names it for the style sheet. A column named filter shows its cells as code. */
function htmlTable(t: Table, cls = ''): string {
  const cell = (v: string, i: number): string => (t.head[i] === 'filter' ? `<td><code>${esc(v)}</code></td>` : `<td>${esc(v)}</td>`);
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${t.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${t.rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('')}</tbody></table>`;
}

function mdTable(t: Table): string {
  const c = (v: string): string => v.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [`| ${t.head.map(c).join(' | ')} |`, `| ${t.head.map(() => '---').join(' | ')} |`, ...t.rows.map((r) => `| ${r.map((v, i) => (t.head[i] === 'filter' ? `\`${c(v)}\`` : c(v))).join(' | ')} |`)].join('\n');
}


export function renderHtml(r: FullAnalysis, cs: Chart[]): string {
  const t = tables(r);
  const f = findings(r);
  const chart = (id: string): string => cs.find((c) => c.id === id)?.svg ?? '';
  const shown = detailed(r);
  /** A connection's time–sequence graphs, each with its bytes-in-flight chart and that chart's reading. */
  const tsg = (i: number): string => {
    const mine = traceCharts(cs, i);
    if (!mine.length) return '';
    return `<div class="charts">${mine.map((c) => c.svg).join('')}</div>${mine.filter((c) => c.words).map((c) => `<p class="alt">${esc(c.words!)}</p>`).join('')}`;
  };
  const byConn = shown.map((c) => {
    const l = label(r, c);
    const retx = toldRetransmissions(r, c);
    return `<section class="conn"><h3>tcp.stream ${c.index}: ${esc(l.client)} ${esc(`${c.client.ip}:${c.client.port}`)} ⇄ ${esc(l.server)} ${esc(`${c.server.ip}:${c.server.port}`)}</h3>
<p>Wireshark: <code>${esc(c.filter)}</code> · initial RTT ${c.handshake.initialRttMs === null ? '—' : `${c.handshake.initialRttMs.toFixed(3)} ms`} · negotiated MSS ${c.handshake.negotiated.mss ?? '—'} · state ${esc(c.state)} · history <code>${esc(c.history)}</code></p>
<div class="charts">${chart(`ladder-${c.index}`)}</div>
${tsg(c.index)}
<div class="charts">${chart(`sizes-${c.index}-c2s`)}${chart(`sizes-${c.index}-s2c`)}${chart(`throughput-${c.index}`)}${chart(`rtt-${c.index}`)}</div>
${retx.rows.length ? `<h4>Retransmissions, and why</h4>${htmlTable(retx, 'told')}` : ''}</section>`;
  }).join('\n');
  const relayCharts = r.app.relays.map((_, i) => chart(`relay-${i}`)).join('');
  const traced = cs.some((c) => c.id.startsWith('tsg-'));
  const m = r.manifest;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>tcp-audio-lab report — ${esc(r.capture.file)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:16px 24px;color:#111;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:2px solid #e5e7eb;padding-bottom:4px;margin-top:2em}
table{border-collapse:collapse;margin:8px 0;font-size:13px;width:100%}
th,td{border:1px solid #d1d5db;padding:3px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}th{background:#f3f4f6}
td code{word-break:break-all}
code{background:#f3f4f6;padding:1px 4px;border-radius:3px;font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{border:1px solid #e5e7eb;border-radius:6px;max-width:100%;height:auto}
.alt{color:#333;font-size:13px;margin:4px 0}table.told td:nth-child(-n+3),table.told th:nth-child(-n+3){white-space:nowrap;overflow-wrap:normal}.findings li{margin:4px 0}.muted{color:#555}dl.reading dt{font-weight:bold;margin-top:6px}
</style></head><body>
<h1>tcp-audio-lab report</h1>
<p class="muted">${headline(r).map(esc).join('<br>')}</p>
${m ? `<p class="muted">Run <code>${esc(m.runId ?? '')}</code> · runtime ${esc(m.runtime ?? '')}${m.impairments ? ` · ${esc(impairmentWords(m.impairments))}` : ''}</p><p class="muted" id="capture-point">${esc(m.capturePoint ?? capturePoint(m))}</p>` : ''}
<h2 id="reading">How to read this report</h2>
<dl class="reading">${READING.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
<h2 id="timeline">The experiment</h2>
<div class="charts">${chart('timeline')}</div>
<h2 id="findings">Findings (check each in Wireshark with its filter)</h2>
${f.length ? `<ul class="findings">${f.map((x) => `<li>${esc(x.text)}<br><code>${esc(x.filter)}</code></li>`).join('')}</ul>` : '<p>Nothing unusual: no retransmissions, zero windows, resets or protocol errors.</p>'}
<h2 id="connections">Connections</h2>
${htmlTable(t.conns!)}
<h3>Segment sizes</h3>${htmlTable(t.sizes!)}
<h3>TCP analysis flags (as Wireshark's tcp.analysis.*)</h3>${htmlTable(t.flags!)}
<h3 id="retransmission-causes">Retransmissions, and why</h3>
${t.causes!.rows.length ? `${htmlTable(t.causes!)}<p class="muted">Wireshark says that a segment is a retransmission; the cause says why, by the first of these rules that holds (each connection below tells its retransmissions one by one). fast and spurious are Wireshark's own flags; all causes add up to tcp.analysis.retransmission.</p><ol class="rules">${RULES.map((x) => `<li>${esc(x)}</li>`).join('')}</ol>` : '<p>No retransmissions.</p>'}
<h2 id="streams">Streams</h2>${t.streams!.rows.length ? htmlTable(t.streams!) : '<p>No streams.</p>'}
<h3>Plays</h3>${t.plays!.rows.length ? htmlTable(t.plays!) : '<p>No plays.</p>'}
<h2 id="relays">Relayed streams</h2>${t.relays!.rows.length ? htmlTable(t.relays!) : '<p>No relays.</p>'}
<div class="charts">${relayCharts}</div>
<h3>Messages</h3>${htmlTable(t.messages!)}
<h2 id="per-connection">Each connection</h2>
${shown.length < r.connections.length ? `<p class="muted">The ${shown.length} busiest of ${r.connections.length} connections are drawn; the tables above list them all.</p>` : ''}
${traced || shown.length === 0 ? '' : `<p class="muted">${esc(NO_TRACE)}</p>`}
${byConn}
<p class="muted">Generated by tcp-audio-lab from ${esc(r.capture.file)} (${esc(r.capture.format)}). Schema: docs/report-schema.md.</p>
</body></html>
`;
}

export function renderMarkdown(r: FullAnalysis, cs: Chart[]): string {
  const t = tables(r);
  const f = findings(r);
  const img = (id: string): string => {
    const c = cs.find((x) => x.id === id);
    return c ? `![${c.title}](charts/${c.id}.svg)` : '';
  };
  const where = r.manifest ? [`- ${r.manifest.capturePoint ?? capturePoint(r.manifest)}`] : [];
  const out = [`# tcp-audio-lab report — ${r.capture.file}`, '', ...headline(r).map((l) => `- ${l}`), ...where, '', '## How to read this report', '', ...READING.map(([k, v]) => `- **${k}.** ${v}`), ''];
  out.push('## The experiment', '', img('timeline'), '', '## Findings', '');
  out.push(...(f.length ? f.map((x) => `- ${x.text} — \`${x.filter}\``) : ['Nothing unusual.']), '');
  out.push('## Connections', '', mdTable(t.conns!), '', '### Segment sizes', '', mdTable(t.sizes!), '', '### TCP analysis flags', '', mdTable(t.flags!), '');
  out.push('### Retransmissions, and why', '', ...(t.causes!.rows.length ? [mdTable(t.causes!), '', 'The cause is the first of these rules that holds; fast and spurious are Wireshark\'s own flags, and all causes add up to tcp.analysis.retransmission:', '', ...RULES.map((x, i) => `${i + 1}. ${x}`)] : ['No retransmissions.']), '');
  out.push('## Streams', '', mdTable(t.streams!), '', '### Plays', '', mdTable(t.plays!), '', '## Relayed streams', '', mdTable(t.relays!), '');
  r.app.relays.forEach((_, i) => out.push(img(`relay-${i}`)));
  out.push('', '### Messages', '', mdTable(t.messages!), '', '## Each connection', '');
  const shown = detailed(r);
  if (shown.length < r.connections.length) out.push(`The ${shown.length} busiest of ${r.connections.length} connections are drawn; the tables above list them all.`, '');
  if (shown.length && !cs.some((x) => x.id.startsWith('tsg-'))) out.push(NO_TRACE, '');
  for (const c of shown) {
    const ts = traceCharts(cs, c.index);
    out.push(`### tcp.stream ${c.index}`, '', `Wireshark: \`${c.filter}\``, '', img(`ladder-${c.index}`), '', ...ts.flatMap((x) => [img(x.id), ...(x.words ? ['', x.words] : []), '']), img(`sizes-${c.index}-c2s`), img(`sizes-${c.index}-s2c`), '', img(`throughput-${c.index}`), img(`rtt-${c.index}`), '');
    const retx = toldRetransmissions(r, c);
    if (retx.rows.length) out.push('#### Retransmissions, and why', '', mdTable(retx), '');
  }
  return out.join('\n');
}

/** The few lines for the terminal. */

export interface WrittenReport { json: string; html: string; md: string; charts: string[] }

/**
 * Writes report.json, report.html, report.md and charts/*.svg into `dir`. `capture`, the file the
 * analysis read, is read again for the time–sequence graphs (not when it is standard input, `-`).
 */
export async function writeReport(r: FullAnalysis, dir: string, capture: string | null = null): Promise<WrittenReport> {
  const traces = capture && capture !== '-' ? traceConnections(capture, detailed(r).map((c) => c.index)) : null;
  const cs = charts(r, traces);
  await mkdir(join(dir, 'charts'), { recursive: true });
  const files = cs.map((c) => join(dir, 'charts', `${c.id}.svg`));
  const w: WrittenReport = { json: join(dir, 'report.json'), html: join(dir, 'report.html'), md: join(dir, 'report.md'), charts: files };
  // written concurrently: a capture with many connections has many charts
  await Promise.all([
    ...cs.map((c, i) => writeFile(files[i]!, c.svg)),
    writeFile(w.json, JSON.stringify(r, null, 1)),
    writeFile(w.html, renderHtml(r, cs)),
    writeFile(w.md, renderMarkdown(r, cs)),
  ]);
  return w;
}
