/**
 * Two runs of the same experiment side by side: their connections and transfers matched by role
 * (client-a↔server, each song transfer by kind, song and client), never by port, and the
 * differences stated in words. Runs whose hosts or scenario differ are not the same experiment and
 * are refused (AUDIOLAB_ERR_MISMATCH).
 */
import { AudioLabError } from '../../services/protocol/errors.ts';
import type { ConnectionReport, DirectionReport } from '../analyze.ts';
import type { FullAnalysis } from '../app/index.ts';
import type { StreamRecord } from '../app/model.ts';
import type { RelayRecord } from '../app/relays.ts';
import { CAUSES, type Cause } from '../tcp/causes.ts';

export interface RunSide {
  label: string;
  dir: string;
  runId: string;
  profile: string;
  impairments: string[];
}

/** One measure of a pair, in each run; ratio is b / a (null when a is 0 or either is missing). */
export interface Measure { name: string; unit: string; a: number | null; b: number | null; ratio: number | null }

export interface DirectionPair { name: string; measures: Measure[] }

export interface ConnectionPair {
  /** The pair's role, e.g. `client-b↔server`. */
  role: string;
  a: number;
  b: number;
  client: string;
  server: string;
  directions: DirectionPair[];
  /** Cumulative payload bytes over time since the connection's SYN, per direction (the time–sequence progress). */
  progress: Array<{ name: string; a: Array<[number, number]>; b: Array<[number, number]> }>;
  /** Throughput over time since the SYN (Mbit/s), per direction. */
  throughput: Array<{ name: string; a: Array<[number, number]>; b: Array<[number, number]> }>;
}

export interface TransferPair {
  key: string;
  kind: string;
  song: string;
  client: string;
  measures: Measure[];
  intact: { a: boolean | null; b: boolean | null };
}

export interface RelayPair { key: string; measures: Measure[] }

export interface Comparison {
  a: RunSide;
  b: RunSide;
  connections: ConnectionPair[];
  transfers: TransferPair[];
  relays: RelayPair[];
  /** What differs, in words, most telling first. */
  differences: string[];
  /** What one run has and the other does not. */
  unmatched: string[];
}

const round = (v: number, d = 3): number => Math.round(v * 10 ** d) / 10 ** d;

function measure(name: string, unit: string, a: number | null, b: number | null): Measure {
  return { name, unit, a: a === null ? null : round(a), b: b === null ? null : round(b), ratio: a && b !== null ? round(b / a) : null };
}

function sideOf(r: FullAnalysis, label: string, dir: string): RunSide {
  const m = r.manifest!;
  return { label, dir, runId: m.runId, profile: m.impairments?.profile ?? 'clean', impairments: m.impairments?.applied ?? [] };
}

/** The role of an address in a run: from its manifest, never from a port. */
function roleOf(r: FullAnalysis, ip: string): string | null {
  return r.manifest?.hosts.find((h) => h.ip === ip)?.role ?? null;
}

/** Keys that repeat get #2, #3… in the order they appear. */
function keyed<T>(items: T[], key: (t: T) => string | null): Map<string, T> {
  const out = new Map<string, T>();
  const seen = new Map<string, number>();
  for (const it of items) {
    const k = key(it);
    if (k === null) continue;
    const n = (seen.get(k) ?? 0) + 1;
    seen.set(k, n);
    out.set(n === 1 ? k : `${k} #${n}`, it);
  }
  return out;
}

/** Pairs two runs' items by key; what one run has alone goes to `unmatched` as "KEY: a WHAT in RUN only". */
function pairUp<T>(ka: Map<string, T>, kb: Map<string, T>, what: string, unmatched: string[], la: string, lb: string): Array<[string, T, T]> {
  for (const k of ka.keys()) if (!kb.has(k)) unmatched.push(`${k}: a ${what} in ${la} only`);
  for (const k of kb.keys()) if (!ka.has(k)) unmatched.push(`${k}: a ${what} in ${lb} only`);
  const out: Array<[string, T, T]> = [];
  for (const [k, x] of ka) {
    const y = kb.get(k);
    if (y) out.push([k, x, y]);
  }
  return out;
}

function checkSameExperiment(a: FullAnalysis, b: FullAnalysis, la: string, lb: string): void {
  for (const [r, l] of [[a, la], [b, lb]] as const) {
    if (!r.manifest) throw new AudioLabError('AUDIOLAB_ERR_MISMATCH', `${l} has no lab.json: compare takes two lab runs (runs/<time>), whose hosts have roles`);
  }
  const roles = (r: FullAnalysis): string => r.manifest!.hosts.map((h) => h.role).sort().join(', ');
  if (roles(a) !== roles(b)) throw new AudioLabError('AUDIOLAB_ERR_MISMATCH', `the runs' hosts differ (${la}: ${roles(a)}; ${lb}: ${roles(b)}): not the same experiment. Compare runs of the same lab with the same --scale`);
  const steps = (r: FullAnalysis): string => (r.manifest!.scenario ?? []).join('\n');
  if (steps(a) !== steps(b)) throw new AudioLabError('AUDIOLAB_ERR_MISMATCH', `the runs played different scenarios (${la}: ${a.manifest!.scenario?.length ?? 0} steps; ${lb}: ${b.manifest!.scenario?.length ?? 0}): not the same experiment`);
}

/** Each cause of retransmission (tcp/causes.ts): its measure's name and its words for one and for many. */
const CAUSE_MEASURES: Record<Cause, [string, string, string]> = {
  fast: ['  fast (after duplicate ACKs)', 'fast retransmission', 'fast retransmissions'],
  recovery: ['  in a recovery (more holes, SACK)', 'retransmission in a recovery', 'retransmissions in a recovery'],
  timeout: ['  timeout', 'retransmission after a timeout', 'retransmissions after a timeout'],
  spurious: ['  spurious (already ACKed)', 'spurious retransmission', 'spurious retransmissions'],
  probe: ['  probe (zero window, tail loss)', 'probe', 'probes'],
  other: ['  other', 'other retransmission', 'other retransmissions'],
};

/**
 * A direction's retransmissions by cause; a report.json written before causes were told has only
 * Wireshark's fast and spurious counts, and the rest counts as other.
 */
function causesOf(d: DirectionReport): Record<Cause, number> {
  if (d.retransmissionCauses) return d.retransmissionCauses;
  const fast = d.flags.fastRetransmission;
  const spurious = d.flags.spuriousRetransmission;
  return { timeout: 0, fast, recovery: 0, spurious, probe: 0, other: Math.max(0, d.flags.retransmission - fast - spurious) };
}

function directionMeasures(a: DirectionReport, b: DirectionReport): Measure[] {
  const ca = causesOf(a);
  const cb = causesOf(b);
  return [
    measure('throughput (mean)', 'Mbit/s', a.throughput.meanBps / 1e6, b.throughput.meanBps / 1e6),
    measure('payload', 'bytes', a.payloadBytes, b.payloadBytes),
    measure('RTT median', 'ms', a.rtt.samples ? a.rtt.medianMs : null, b.rtt.samples ? b.rtt.medianMs : null),
    measure('RTT p95', 'ms', a.rtt.samples ? a.rtt.p95Ms : null, b.rtt.samples ? b.rtt.p95Ms : null),
    measure('retransmissions', 'segments', a.flags.retransmission, b.flags.retransmission),
    ...CAUSES.map((k) => measure(CAUSE_MEASURES[k][0], 'segments', ca[k], cb[k])),
    measure('duplicate ACKs', 'segments', a.flags.dupAck, b.flags.dupAck),
    measure('zero windows', 'segments', a.flags.zeroWindow, b.flags.zeroWindow),
    measure('window (mean)', 'bytes', a.window.mean, b.window.mean),
    measure('window (min)', 'bytes', a.window.min, b.window.min),
  ];
}

function series(d: DirectionReport): { progress: Array<[number, number]>; throughput: Array<[number, number]> } {
  const w = d.throughput.binSeconds;
  const progress: Array<[number, number]> = [[0, 0]];
  const throughput: Array<[number, number]> = [];
  let sum = 0;
  d.throughput.bytesPerBin.forEach((bytes, i) => {
    sum += bytes;
    progress.push([round((i + 1) * w), sum]);
    throughput.push([round((i + 0.5) * w), round((bytes * 8) / w / 1e6)]);
  });
  return { progress, throughput };
}

function connectionPairs(a: FullAnalysis, b: FullAnalysis, unmatched: string[], la: string, lb: string): ConnectionPair[] {
  const key = (r: FullAnalysis) => (c: ConnectionReport): string | null => {
    const cr = roleOf(r, c.client.ip);
    const sr = roleOf(r, c.server.ip);
    return cr && sr ? `${cr}↔${sr}` : null;
  };
  return pairUp(keyed(a.connections, key(a)), keyed(b.connections, key(b)), 'connection', unmatched, la, lb).map(([k, ca, cb]) => {
    const [client, server] = k.replace(/ #\d+$/, '').split('↔') as [string, string];
    const dirs = ([[`${client}→${server}`, ca.clientToServer, cb.clientToServer], [`${server}→${client}`, ca.serverToClient, cb.serverToClient]] as const)
      .map(([name, da, db]) => ({ name, da, db, sa: series(da), sb: series(db) }));
    return {
      role: k, a: ca.index, b: cb.index, client, server,
      directions: dirs.map((d) => ({ name: d.name, measures: directionMeasures(d.da, d.db) })),
      progress: dirs.map((d) => ({ name: d.name, a: d.sa.progress, b: d.sb.progress })),
      throughput: dirs.map((d) => ({ name: d.name, a: d.sa.throughput, b: d.sb.throughput })),
    };
  });
}

const who = (r: FullAnalysis, s: StreamRecord): string => {
  const c = r.app.clients.find((x) => x.conn === s.conn);
  return c?.role ?? c?.asked ?? s.client;
};

function transferPairs(a: FullAnalysis, b: FullAnalysis, unmatched: string[], la: string, lb: string): TransferPair[] {
  const key = (r: FullAnalysis) => (s: StreamRecord): string => `${s.kind} ${s.song} ${s.dir === 's2c' ? '→' : '←'} ${who(r, s)}`;
  return pairUp(keyed(a.app.streams, key(a)), keyed(b.app.streams, key(b)), 'transfer', unmatched, la, lb).map(([k, sa, sb]) => ({
      key: k, kind: sa.kind, song: sa.song, client: who(a, sa),
      measures: [
        measure('duration', 'ms', sa.durationMs, sb.durationMs),
        measure('throughput', 'Mbit/s', sa.throughputBps / 1e6, sb.throughputBps / 1e6),
        measure('bytes', 'bytes', sa.bytes, sb.bytes),
      ],
      intact: { a: sa.intact, b: sb.intact },
  }));
}

function relayPairs(a: FullAnalysis, b: FullAnalysis, unmatched: string[], la: string, lb: string): RelayPair[] {
  const key = (rl: RelayRecord): string => `${rl.kind} ${rl.song} ${rl.from}→${rl.to}`;
  return pairUp(keyed(a.app.relays, key), keyed(b.app.relays, key), 'relayed stream', unmatched, la, lb).map(([k, ra, rb]) => ({ key: k, measures: [
    measure('chunk delay in the server, p50', 'ms', ra.delayMs?.p50 ?? null, rb.delayMs?.p50 ?? null),
    measure('chunk delay in the server, p95', 'ms', ra.delayMs?.p95 ?? null, rb.delayMs?.p95 ?? null),
    measure('chunk delay in the server, max', 'ms', ra.delayMs?.max ?? null, rb.delayMs?.max ?? null),
    measure('stalls', 'stalls', ra.stalls.length, rb.stalls.length),
  ] }));
}

const get = (ms: Measure[], name: string): Measure => ms.find((m) => m.name === name)!;
const times = (r: number): string => (r >= 1 ? `${r.toFixed(1)}×` : `${(1 / r).toFixed(1)}× less`);
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The TCP events of a direction in words: "41 fast retransmissions, 2 retransmissions after a timeout". */
function tcpEvents(ms: Measure[], side: 'a' | 'b'): string {
  const v = (name: string): number => get(ms, name)[side] ?? 0;
  const parts = [
    ...CAUSES.map((k) => { const [name, one, many] = CAUSE_MEASURES[k]; return v(name) ? plural(v(name), one, many) : ''; }),
    v('zero windows') ? plural(v('zero windows'), 'zero window') : '',
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'no retransmissions';
}

function differences(c: Pick<Comparison, 'a' | 'b' | 'connections' | 'transfers' | 'relays'>): string[] {
  const out: Array<{ weight: number; text: string }> = [];
  const { a, b } = c;
  for (const t of c.transfers) {
    const d = get(t.measures, 'duration');
    if (d.ratio === null || (d.ratio < 1.2 && d.ratio > 1 / 1.2)) continue;
    const slower = d.ratio >= 1 ? b : a;
    const ratio = d.ratio >= 1 ? d.ratio : 1 / d.ratio;
    // the direction that carried it: server→client for what the client receives, client→server for what it sends
    const conn = c.connections.find((p) => p.client === t.client);
    const carrier = conn?.directions.find((x) => x.name === (t.key.includes(' → ') ? `${conn.server}→${conn.client}` : `${conn.client}→${conn.server}`));
    const why = carrier ? `: ${tcpEvents(carrier.measures, slower === a ? 'a' : 'b')} on ${carrier.name}` : '';
    out.push({ weight: ratio, text: `On the ${slower.label} run (${slower.profile}) ${t.client}'s ${t.kind} of ${t.song} took ${ratio.toFixed(1)}× longer (${Math.round(d.a!)} ms against ${Math.round(d.b!)} ms)${why}.` });
  }
  for (const p of c.connections) {
    for (const dir of p.directions) {
      const r = get(dir.measures, 'retransmissions');
      if ((r.a ?? 0) === (r.b ?? 0)) continue;
      const more = (r.b ?? 0) > (r.a ?? 0) ? b : a;
      const fewer = more === b ? a : b;
      out.push({ weight: Math.abs((r.b ?? 0) - (r.a ?? 0)) / 10, text: `${dir.name} had ${plural(more === b ? r.b! : r.a!, 'retransmission')} on the ${more.label} run (${more.profile}: ${tcpEvents(dir.measures, more === a ? 'a' : 'b')}) against ${more === b ? r.a : r.b} on the ${fewer.label} run.` });
    }
    for (const dir of p.directions) {
      const rtt = get(dir.measures, 'RTT median');
      if (rtt.ratio !== null && (rtt.ratio >= 1.5 || rtt.ratio <= 1 / 1.5) && Math.abs((rtt.b ?? 0) - (rtt.a ?? 0)) >= 1) {
        out.push({ weight: 1, text: `The median RTT of ${dir.name}'s data was ${rtt.a} ms on the ${a.label} run and ${rtt.b} ms on the ${b.label} run (${times(rtt.ratio)}).` });
      }
    }
  }
  for (const rl of c.relays) {
    const p95 = get(rl.measures, 'chunk delay in the server, p95');
    if (p95.ratio !== null && (p95.ratio >= 2 || p95.ratio <= 0.5) && Math.abs((p95.b ?? 0) - (p95.a ?? 0)) >= 1) {
      out.push({ weight: 0.5, text: `In the ${rl.key}, chunks waited in the server ${p95.a} ms (p95) on the ${a.label} run and ${p95.b} ms on the ${b.label} run.` });
    }
  }
  out.sort((x, y) => y.weight - x.weight);
  return out.length ? out.map((x) => x.text) : [`No difference worth a word: the ${a.label} and ${b.label} runs took about as long, with the same retransmissions.`];
}

/**
 * Compares two runs' analyses. `labels` name them in the words ("clean", "lossy"): by default
 * their profiles, or A and B when the profiles are the same.
 */
export function compareRuns(a: FullAnalysis, b: FullAnalysis, dirs: [string, string], labels?: [string, string]): Comparison {
  checkSameExperiment(a, b, dirs[0], dirs[1]);
  const pa = a.manifest!.impairments?.profile ?? 'clean';
  const pb = b.manifest!.impairments?.profile ?? 'clean';
  const [la, lb] = labels ?? (pa !== pb ? [pa, pb] : ['first', 'second']);
  const unmatched: string[] = [];
  const base = {
    a: sideOf(a, la, dirs[0]),
    b: sideOf(b, lb, dirs[1]),
    connections: connectionPairs(a, b, unmatched, la, lb),
    transfers: transferPairs(a, b, unmatched, la, lb),
    relays: relayPairs(a, b, unmatched, la, lb),
  };
  if (base.connections.length === 0) throw new AudioLabError('AUDIOLAB_ERR_MISMATCH', `no connection of ${dirs[0]} matches one of ${dirs[1]} by role: the manifests name no client and server pair both runs have`);
  return { ...base, differences: differences(base), unmatched };
}

// not an ES import, which would evaluate every export of node:fs (docs/analysis.md, Speed)
const { existsSync, readFileSync } = process.getBuiltinModule('node:fs');
const { join } = process.getBuiltinModule('node:path');

/** A run folder's analysis: its report.json, else its capture analysed afresh. */
export async function loadRun(dir: string): Promise<FullAnalysis> {
  const report = join(dir, 'report.json');
  if (existsSync(report)) {
    try {
      return JSON.parse(readFileSync(report, 'utf8')) as FullAnalysis;
    } catch (err) {
      throw new AudioLabError('AUDIOLAB_ERR_FILE', `${report} is not readable JSON (${(err as Error).message}): analyse the run again with audiolab analyze ${join(dir, 'capture.pcap')} --out ${dir}`);
    }
  }
  const capture = join(dir, 'capture.pcap');
  if (existsSync(capture)) return (await import('../app/index.ts')).analyzeWithApp(capture);
  throw new AudioLabError('AUDIOLAB_ERR_FILE', `${dir} holds neither report.json nor capture.pcap: name a lab run's folder (runs/<time>, or runs/latest)`);
}
