/** tshark as the oracle: which frames match each tcp.analysis.* filter, and per-frame facts. */
import { execFileSync } from 'node:child_process';
import { FLAG_BITS, FLAG_FILTERS, FLAG_NAMES, type FlagName } from '../../analysis/tcp/flags.ts';
import { analyze } from '../../analysis/analyze.ts';
import { CAUSES } from '../../analysis/tcp/causes.ts';

const tshark = (args: string[]): string => execFileSync('tshark', ['-n', ...args], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });

export interface OracleFrame { frame: number; stream: number; src: string; sport: number; len: number; irtt: number | null; mss: number | null }

export function tsharkFrames(file: string): OracleFrame[] {
  const out = tshark(['-r', file, '-Y', 'tcp', '-T', 'fields', '-E', 'separator=;', '-E', 'occurrence=l', '-e', 'frame.number', '-e', 'tcp.stream', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'tcp.srcport', '-e', 'tcp.len', '-e', 'tcp.analysis.initial_rtt', '-e', 'tcp.options.mss_val', '-e', 'frame.protocols']);
  return out.trim().split('\n').filter(Boolean).map((l) => {
    const [frame, stream, ip4, ip6, sport, len, irtt, mss, protocols] = l.split(';');
    // in a tunnel the innermost IP is the one that carries the TCP (6in4: IPv6 inside IPv4)
    const inner = /(ipv6|ip):tcp/.exec(protocols ?? '')?.[1];
    return { frame: Number(frame), stream: Number(stream), src: (inner === 'ipv6' ? ip6 : ip4) || ip4 || ip6 || '', sport: Number(sport), len: Number(len), irtt: irtt ? Number(irtt) : null, mss: mss ? Number(mss) : null };
  });
}

const flagFramesOf = new Map<string, Record<FlagName, Set<number>>>();

/** The frames tshark flags, per flag (asked once per file: captures do not change under a test). */
export function tsharkFlagFrames(file: string): Record<FlagName, Set<number>> {
  const known = flagFramesOf.get(file);
  if (known) return known;
  const r = {} as Record<FlagName, Set<number>>;
  flagFramesOf.set(file, r);
  for (const name of FLAG_NAMES) {
    const out = tshark(['-r', file, '-Y', FLAG_FILTERS[name], '-T', 'fields', '-e', 'frame.number']);
    r[name] = new Set(out.trim().split('\n').filter(Boolean).map(Number));
  }
  return r;
}

/** Our per-frame flags for the same file. */
export function ourFlagFrames(file: string): Record<FlagName, Set<number>> {
  const r = Object.fromEntries(FLAG_NAMES.map((n) => [n, new Set<number>()])) as Record<FlagName, Set<number>>;
  analyze(file, {
    onAnalyzed: (rec) => {
      for (const n of FLAG_NAMES) if (rec.flags & FLAG_BITS[n]) r[n].add(rec.frame);
    },
  });
  return r;
}


/** Lists every difference between tshark and us, flag by flag, as readable lines (empty when they agree). */
export function flagDifferences(file: string): string[] {
  const theirs = tsharkFlagFrames(file);
  const ours = ourFlagFrames(file);
  const diffs: string[] = [];
  for (const n of FLAG_NAMES) {
    const onlyTheirs = [...theirs[n]].filter((f) => !ours[n].has(f));
    const onlyOurs = [...ours[n]].filter((f) => !theirs[n].has(f));
    if (onlyTheirs.length) diffs.push(`${n}: tshark only, frames ${onlyTheirs.slice(0, 15).join(', ')}${onlyTheirs.length > 15 ? ` (+${onlyTheirs.length - 15})` : ''}`);
    if (onlyOurs.length) diffs.push(`${n}: ours only, frames ${onlyOurs.slice(0, 15).join(', ')}${onlyOurs.length > 15 ? ` (+${onlyOurs.length - 15})` : ''}`);
  }
  return diffs;
}

export interface DirectionTruth { packets: number; payloadBytes: number }
export interface ConnTruth { stream: number; irttMs: number | null; mss: Record<string, number | null>; dirs: Record<string, DirectionTruth> }

/** Per connection (tcp.stream) and direction (keyed "ip:port" of the sender): tshark's counts. */
export function tsharkConnections(file: string): Map<number, ConnTruth> {
  const m = new Map<number, ConnTruth>();
  for (const f of tsharkFrames(file)) {
    let c = m.get(f.stream);
    if (!c) m.set(f.stream, (c = { stream: f.stream, irttMs: null, mss: {}, dirs: {} }));
    const key = `${f.src}:${f.sport}`;
    const d = (c.dirs[key] ??= { packets: 0, payloadBytes: 0 });
    d.packets++;
    d.payloadBytes += f.len;
    if (f.irtt !== null) c.irttMs = f.irtt * 1000;
    if (f.mss !== null) c.mss[key] = f.mss;
  }
  return m;
}

/** Differences between tshark's per-connection facts and our JSON, as readable lines. */
export function connectionDifferences(file: string): string[] {
  const truth = tsharkConnections(file);
  const ours = analyze(file).connections;
  const diffs: string[] = [];
  if (truth.size !== ours.length) diffs.push(`connections: tshark ${truth.size}, ours ${ours.length}`);
  for (const c of ours) {
    const t = truth.get(c.index);
    if (!t) { diffs.push(`stream ${c.index}: not in tshark`); continue; }
    const ck = `${c.client.ip}:${c.client.port}`;
    const sk = `${c.server.ip}:${c.server.port}`;
    for (const [name, key, d] of [['clientToServer', ck, c.clientToServer], ['serverToClient', sk, c.serverToClient]] as const) {
      const td = t.dirs[key] ?? { packets: 0, payloadBytes: 0 };
      if (td.packets !== d.packets) diffs.push(`stream ${c.index} ${name} packets: tshark ${td.packets}, ours ${d.packets}`);
      if (td.payloadBytes !== d.payloadBytes) diffs.push(`stream ${c.index} ${name} payload: tshark ${td.payloadBytes}, ours ${d.payloadBytes}`);
    }
    const irtt = c.handshake.initialRttMs;
    if ((t.irttMs === null) !== (irtt === null) || (t.irttMs !== null && irtt !== null && Math.abs(t.irttMs - irtt) > 0.0015)) {
      diffs.push(`stream ${c.index} initial RTT: tshark ${t.irttMs} ms, ours ${irtt} ms`);
    }
    if ((t.mss[ck] ?? null) !== c.handshake.mss.client) diffs.push(`stream ${c.index} client MSS: tshark ${t.mss[ck]}, ours ${c.handshake.mss.client}`);
    if ((t.mss[sk] ?? null) !== c.handshake.mss.server) diffs.push(`stream ${c.index} server MSS: tshark ${t.mss[sk]}, ours ${c.handshake.mss.server}`);
  }
  return diffs;
}

/**
 * Where our retransmission causes do not add up to tshark's flags (empty when they do): fast is
 * tcp.analysis.fast_retransmission, spurious its spurious_retransmission, all causes together its
 * tcp.analysis.retransmission, over the whole capture.
 */
export function causeDifferences(file: string): string[] {
  const theirs = tsharkFlagFrames(file);
  const dirs = analyze(file).connections.flatMap((c) => [c.clientToServer, c.serverToClient]);
  const ours = Object.fromEntries(CAUSES.map((k) => [k, dirs.reduce((n, d) => n + d.retransmissionCauses[k], 0)])) as Record<(typeof CAUSES)[number], number>;
  const all = CAUSES.reduce((n, k) => n + ours[k], 0);
  const diffs: string[] = [];
  if (ours.fast !== theirs.fastRetransmission.size) diffs.push(`fast: ours ${ours.fast}, tshark ${theirs.fastRetransmission.size}`);
  if (ours.spurious !== theirs.spuriousRetransmission.size) diffs.push(`spurious: ours ${ours.spurious}, tshark ${theirs.spuriousRetransmission.size}`);
  if (all !== theirs.retransmission.size) diffs.push(`all causes: ours ${all} (${CAUSES.map((k) => `${k} ${ours[k]}`).join(', ')}), tshark ${theirs.retransmission.size}`);
  return diffs;
}
