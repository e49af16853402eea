/**
 * What a capture's analysis found, in words, each with the Wireshark display filter that shows it:
 * for the report and for the terminal. A module of its own so that the terminal summary does not
 * load the report's HTML and SVG rendering.
 */
import type { ConnectionReport, DirectionReport } from '../analyze.ts';
import { CAUSES, type Cause, type RetransmissionRecord } from '../tcp/causes.ts';
import type { FullAnalysis } from '../app/index.ts';
import type { FlagName } from '../tcp/flags.ts';
import type { LabImpairments } from '../app/manifest.ts';

export interface Finding { text: string; filter: string }

export const ms = (s: number): string => `${(s * 1000).toFixed(3)} ms`;

/** Each flag: its name for one, for many, and what it means (`from`/`to`: the direction's sender and receiver). */
const FLAG_TEXT: Record<FlagName, [string, string, (from: string, to: string) => string]> = {
  retransmission: ['retransmission', 'retransmissions', () => 'a segment sent again: lost, or its ACK was'],
  fastRetransmission: ['fast retransmission', 'fast retransmissions', () => 'resent after duplicate ACKs, before the timer'],
  spuriousRetransmission: ['spurious retransmission', 'spurious retransmissions', () => 'resent although already acknowledged'],
  outOfOrder: ['out-of-order segment', 'out-of-order segments', () => 'arrived before bytes that precede it'],
  lostSegment: ['segment the capture did not see', 'segments the capture did not see', () => '"previous segment not captured"'],
  ackedUnseen: ['ACK for a segment the capture did not see', 'ACKs for segments the capture did not see', () => 'the capture missed what it acknowledges'],
  dupAck: ['duplicate ACK', 'duplicate ACKs', (from) => `${from} still waits for the same byte`],
  zeroWindow: ['zero window', 'zero windows', (from, to) => `${from}'s receive buffer is full: ${to} must wait`],
  zeroWindowProbe: ['zero-window probe', 'zero-window probes', (from, to) => `${from} asks whether ${to}'s window has opened`],
  windowFull: ['window-full segment', 'window-full segments', (from, to) => `${from} filled ${to}'s receive window`],
  windowUpdate: ['window update', 'window updates', (from) => `${from} says its window opened`],
  keepAlive: ['keep-alive', 'keep-alives', () => 'an empty probe that the connection is still there'],
};

/** "1 zero window (client-a's receive buffer is full: server must wait)". */
export function flagText(flag: FlagName, n: number, from: string, to: string): string {
  const [one, many, why] = FLAG_TEXT[flag];
  return `${n} ${n === 1 ? one : many} (${why(from, to)})`;
}

/** Who is at each end of a connection: client name from the protocol (or manifest), else the address. */
export function label(r: FullAnalysis, c: ConnectionReport): { client: string; server: string } {
  const id = r.app.clients.find((x) => x.conn === c.index);
  const server = r.manifest?.hosts?.find((h) => h.ip === c.server.ip)?.role ?? 'server';
  return { client: id?.name ?? id?.asked ?? id?.role ?? 'client', server };
}

const CAUSE_WORDS: Record<Cause, [string, string]> = {
  timeout: ['timeout', 'timeouts'], fast: ['fast', 'fast'], recovery: ['in a recovery', 'in a recovery'],
  spurious: ['spurious', 'spurious'], probe: ['probe', 'probes'], other: ['unexplained', 'unexplained'],
};

/** "3 timeouts, 1 fast, 2 in a recovery" (the causes with a count). */
export function causeCounts(d: DirectionReport): string {
  return CAUSES.filter((k) => d.retransmissionCauses[k] > 0).map((k) => `${d.retransmissionCauses[k]} ${CAUSE_WORDS[k][d.retransmissionCauses[k] === 1 ? 0 : 1]}`).join(', ');
}

/**
 * One retransmission's story in plain words, with the frames it rests on: "frame 812 resends seq
 * 1001 (1000 bytes) of frame 640, 204 ms after it, with no new ACK from client-b for 203 ms (the
 * last: frame 700): the retransmission timer expired (a timeout, RTO)".
 */
export function retransmissionWords(x: RetransmissionRecord, sender: string, receiver: string): string {
  const what = x.segment === 'data' ? `seq ${x.bytes[0]} (${x.bytes[1] - x.bytes[0]} bytes)` : `the ${x.segment}`;
  // Wireshark's spurious rule needs payload: a SYN or FIN resent after its ACK was seen is told here
  const acked = x.rule !== 'spurious' && x.lastNewAck !== null && x.lastNewAck.ack >= x.bytes[1];
  const of = x.original !== null ? ` of frame ${x.original}` : '';
  const newAck = x.lastNewAck ? ` (the last: frame ${x.lastNewAck.frame}, asking for byte ${x.lastNewAck.ack})` : '';
  const quiet = x.sinceNewAckMs !== null ? `no new ACK from ${receiver} for ${x.sinceNewAckMs} ms${newAck}` : `no ACK from ${receiver} yet`;
  const dups = x.dupAcks ? `${x.dupAcks.count} duplicate ACK${x.dupAcks.count === 1 ? '' : 's'} from ${receiver} (frame${x.dupAcks.count === 1 ? ` ${x.dupAcks.first}` : `s ${x.dupAcks.first}–${x.dupAcks.last}`})` : '';
  let words: string;
  switch (x.rule) {
    case 'timeout': words = acked
      ? `frame ${x.frame} resends ${what}, although ${receiver} acknowledged it in frame ${x.lastNewAck!.frame}, ${x.sinceNewAckMs} ms earlier: that ACK was lost or late on its way to ${sender} (past the capture point), and ${sender}'s retransmission timer expired (a timeout, RTO)`
      : `frame ${x.frame} resends ${what}${of}${x.sinceOriginalMs !== null ? `, ${x.sinceOriginalMs} ms after it` : ''}, with ${quiet}: the retransmission timer expired (a timeout, RTO)`; break;
    case 'timeout-go-back': words = `frame ${x.frame} resends ${what}${of}: after the timeout at frame ${x.episode}, ${sender} goes back and resends what was outstanding`; break;
    case 'fast': words = `frame ${x.frame} resends ${what}${of} after ${dups} asking for byte ${x.bytes[0]}: a fast retransmission, before any timer`; break;
    case 'recovery-ongoing': words = `frame ${x.frame} resends ${what}${of} in the recovery begun at frame ${x.episode}: ${receiver}'s ACKs${newAck} had not yet passed the highest byte sent when it began`; break;
    case 'recovery-reported': words = `frame ${x.frame} resends ${what}${of} after ${dups || `SACK blocks from ${receiver} above byte ${x.lastNewAck?.ack ?? '?'}`} reported the hole; Wireshark calls a resend fast only after 2 or more duplicate ACKs for exactly its byte, within 20 ms`; break;
    case 'spurious': words = `frame ${x.frame} resends ${what} that ${receiver} had already acknowledged${x.lastNewAck ? ` (frame ${x.lastNewAck.frame} asks for byte ${x.lastNewAck.ack}${x.sinceNewAckMs !== null ? `, ${x.sinceNewAckMs} ms earlier` : ''})` : ''}: not needed — the ACK was lost or late on its way to ${sender}, or ${sender} resent too soon`; break;
    case 'zero-window-probe': words = `frame ${x.frame} resends ${what}${of} while ${receiver}'s window is 0: a window probe, asking whether it has opened`; break;
    case 'duplicate': words = `frame ${x.frame} repeats ${what}${of} only ${x.sinceOriginalMs} ms after it, sooner than ${sender} could learn of any loss: a copy made on the way or by the capture, not a resend`; break;
    case 'gap-filled': words = `frame ${x.frame} carries ${what}, which the capture had not seen, below bytes it had: they were reordered on the way, or their first copy was lost before the capture point`; break;
    case 'tail-loss-probe': words = `frame ${x.frame} resends the last segment sent, ${what}${of}, ${x.sinceNewAckMs ?? '?'} ms after the last new ACK, sooner than any retransmission timeout: a tail-loss probe, so that ${receiver}'s answer shows what was lost`; break;
    default: words = `frame ${x.frame} resends ${what}${of} with ${quiet}: no duplicate ACK, SACK block, zero window or timeout explains it`;
  }
  return x.dsack !== null ? `${words}; ${receiver}'s D-SACK in frame ${x.dsack} says these bytes arrived twice` : words;
}

export function findings(r: FullAnalysis): Finding[] {
  const out: Finding[] = [];
  for (const c of r.connections) {
    const l = label(r, c);
    for (const [d, from, to] of [[c.clientToServer, l.client, l.server], [c.serverToClient, l.server, l.client]] as const) {
      const who = `${from}→${to}`;
      for (const [flag, n] of Object.entries(d.flags) as Array<[FlagName, number]>) {
        if (n > 0) out.push({ text: `${who} (tcp.stream ${c.index}): ${flagText(flag, n, from, to)}${flag === 'retransmission' ? ` — by cause: ${causeCounts(d)}` : ''}`, filter: `tcp.stream eq ${c.index} && ${r.flagFilters[flag]}` });
      }
      if (d.aboveMss > 0) out.push({ text: `${who} (tcp.stream ${c.index}): ${d.aboveMss} segments larger than the MSS — the capture saw them before segmentation offload (TSO/GSO) split them`, filter: `tcp.stream eq ${c.index} && tcp.len > ${c.handshake.negotiated.mss ?? 1460}` });
    }
    if (!c.handshake.complete) out.push({ text: `tcp.stream ${c.index}: the three-way handshake is not (fully) in the capture`, filter: `tcp.stream eq ${c.index} && tcp.flags.syn == 1` });
    if (c.teardown.rst) out.push({ text: `tcp.stream ${c.index}: reset by the ${c.teardown.rst.by}`, filter: `tcp.stream eq ${c.index} && tcp.flags.reset == 1` });
  }
  for (const rl of r.app.relays) for (const s of rl.stalls) out.push({ text: `relay ${rl.song} ${rl.from}→${rl.to}: stalled ${s.durationMs.toFixed(0)} ms at ${ms(s.start)} — ${s.cause}`, filter: s.filter });
  for (const e of r.app.protocolErrors) out.push({ text: `${e.dir === 'c2s' ? 'client' : 'server'} sent ERROR ${e.code}: ${e.message}`, filter: `frame.number == ${e.frame}` });
  for (const u of r.app.undecoded) if (r.app.connections.some((c) => c.conn === u.conn)) out.push({ text: `tcp.stream ${u.conn} ${u.dir}: decoding stopped (${u.code}: ${u.message})`, filter: `tcp.stream eq ${u.conn}` });
  for (const c of r.app.connections) {
    for (const dir of ['c2s', 's2c'] as const) {
      const d = c[dir];
      if (d.gaps === 0) continue;
      const tc = r.connections.find((x) => x.index === c.conn);
      const l = tc ? label(r, tc) : { client: c.client, server: 'server' };
      out.push({ text: `${dir === 'c2s' ? `${l.client}→${l.server}` : `${l.server}→${l.client}`} (tcp.stream ${c.conn}): ${holeWords(d, typeof r.manifest?.capture?.snaplen === 'number' ? r.manifest.capture.snaplen : null)}; the protocol was picked up again ${d.resyncs} time(s)`, filter: `tcp.stream eq ${c.conn} && (tcp.analysis.lost_segment || frame.cap_len < frame.len)` });
    }
  }
  return out;
}

/**
 * Where a direction's captured bytes have holes, and why: "the capture lacks 56 payload bytes in 4
 * holes: 4 cut from the end of frames 312, 340, 351 and 360 (the capture kept 65535 bytes of each
 * frame: frame.cap_len < frame.len)".
 */
export function holeWords(d: { gaps: number; lostBytes: number; holes: Array<{ frame: number; why: 'cut' | 'not-captured' }> }, snaplen: number | null): string {
  const frames = (xs: number[], more: boolean): string => `${xs.length === 1 ? 'frame' : 'frames'} ${xs.join(', ')}${more ? ' and more' : ''}`;
  const cut = d.holes.filter((h) => h.why === 'cut').map((h) => h.frame);
  const missed = d.holes.filter((h) => h.why === 'not-captured').map((h) => h.frame);
  const more = d.gaps > d.holes.length;
  const parts: string[] = [];
  if (cut.length) parts.push(`${cut.length === d.gaps ? 'all' : `${cut.length}${more ? '+' : ''}`} cut from the end of ${frames(cut, more)} (${snaplen ? `the capture kept ${snaplen} bytes of each frame` : 'the capture kept only the start of each frame'}: frame.cap_len < frame.len)`);
  if (missed.length) parts.push(`${missed.length} never captured, before ${frames(missed, more)} (the capture dropped or missed those segments: tcp.analysis.lost_segment)`);
  return `the capture lacks ${d.lostBytes} payload bytes in ${d.gaps} hole${d.gaps === 1 ? '' : 's'}${parts.length ? `: ${parts.join('; ')}` : ''}`;
}

/** A run's impairments in words: "profile lossy: client-b: loss 1 in 25; not possible on this kernel: delay (no netem)". */
export function impairmentWords(i: LabImpairments): string {
  const applied = i.applied.length ? `: ${i.applied.join('; ')}` : i.profile === 'clean' ? ' (no impairment)' : '';
  return `profile ${i.profile}${applied}${i.unavailable.length ? `; not possible on this kernel: ${i.unavailable.join('; ')}` : ''}`;
}

/** Clients named on the summary's clients: line; the rest are counted. */
const CLIENTS_NAMED = 8;
/** Play-on and relayed streams named in the summary; the rest are counted by state. */
const RELAYS_NAMED = 8;

export function headline(r: FullAnalysis): string[] {
  const a = r.app;
  const lines = [`${r.capture.file}: ${r.capture.packets} packets (${r.capture.tcpPackets} TCP) over ${ms(r.capture.duration)}, ${r.connections.length} TCP connection(s)${r.capture.partial ? ', PARTIAL (truncated file)' : ''}`];
  const named = a.clients.slice(0, CLIENTS_NAMED).map((c) => `${c.name ?? c.asked ?? c.role ?? 'unnamed'} (${c.ip})`);
  const more = a.clients.length - named.length;
  if (a.clients.length) lines.push(`clients: ${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}; ${a.streams.length} stream(s), ${a.plays.length} play(s) (${a.plays.filter((p) => p.source === 'cache').length} from cache), ${a.relays.length} relay(s)`);
  const state = (rl: (typeof a.relays)[number]): string => (rl.intact ? 'intact' : rl.intact === null ? 'integrity unknown' : 'NOT intact');
  // the broken first, then those the capture cannot judge: a run with fifty listeners names eight
  const rank = (rl: (typeof a.relays)[number]): number => (rl.intact === false ? 0 : rl.intact === null ? 1 : 2);
  const relays = [...a.relays].sort((x, y) => rank(x) - rank(y));
  for (const rl of relays.slice(0, RELAYS_NAMED)) lines.push(`${rl.kind} ${rl.song}: ${rl.kind === 'relay' ? rl.from : 'library'} → ${rl.to}, ${state(rl)}${rl.delayMs ? `, server delay p50 ${rl.delayMs.p50.toFixed(3)} ms / p95 ${rl.delayMs.p95.toFixed(3)} ms` : ''}${rl.stalls.length ? `, ${rl.stalls.length} stall(s)` : ''}`);
  const rest = relays.slice(RELAYS_NAMED);
  if (rest.length) {
    const counts = new Map<string, number>();
    for (const rl of rest) counts.set(state(rl), (counts.get(state(rl)) ?? 0) + 1);
    lines.push(`and ${rest.length} more play-on and relayed stream(s): ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')} (all of them: the report's Relayed streams)`);
  }
  return lines;
}

/** The terminal's lines after the command's own line about the capture (so the capture is described once). */
export function terminalSummary(r: FullAnalysis): string {
  const lines = headline(r).slice(1);
  const f = findings(r);
  if (f.length) lines.push(`${f.length} finding(s), e.g. ${f[0]!.text} — ${f[0]!.filter}`);
  return lines.join('\n');
}
