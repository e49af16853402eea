/**
 * `analyze(capture)`: read → decode → follow TCP → a JSON-ready result (docs/report-schema.md).
 */
import { basename } from 'node:path';
import { AudioLabError } from '../services/protocol/errors.ts';
import { readCapture, type ReadSummary } from './capture/reader.ts';
import * as packet from './decode/packet.ts';
import { TcpTracker, type PayloadSink, type PacketRecord } from './tcp/tracker.ts';
import { FLAG_FILTERS, type FlagName } from './tcp/flags.ts';
import { round } from './tcp/stats.ts';
import { CauseLog, type Cause, type RetransmissionRecord } from './tcp/causes.ts';
import { seen, type TcpConnection, type Direction, type LadderStep } from './tcp/connection.ts';

// a local constant, not a live import binding, for the call made for every packet (see tcp/rules.ts)
const { decodePacket, newDecodedPacket } = packet;

export const SCHEMA_VERSION = 1;

export interface AnalyzeOptions {
  /** `total` is 0 when the size is unknown (a pipe, standard input): then `packets` counts. */
  onProgress?: (bytes: number, total: number, packets: number) => void;
  onPayload?: PayloadSink;
  onAnalyzed?: (rec: PacketRecord) => void;
}

export interface DirectionReport {
  packets: number;
  bytes: number;
  payloadBytes: number;
  dataSegments: number;
  truncatedPackets: number;
  segmentSize: { min: number; max: number; mean: number; p50: number; p90: number; p99: number; top: Array<{ value: number; count: number }>; histogram: Array<{ from: number; to: number; count: number }> };
  /** Data segments larger than the MSS the other side announced: capture offload (TSO/GRO) artefacts. */
  aboveMss: number;
  window: { min: number; max: number; mean: number };
  rtt: { samples: number; minMs: number; medianMs: number; p90Ms: number; p95Ms: number; maxMs: number; meanMs: number; series: Array<[number, number]> };
  throughput: { binSeconds: number; bytesPerBin: number[]; meanBps: number; peakBps: number };
  flags: Record<FlagName, number>;
  /** First frames (up to 20) with each flag. */
  flagFrames: Partial<Record<FlagName, number[]>>;
  /** tcp.analysis.retransmission by cause (tcp/causes.ts): fast and spurious are Wireshark's own flags. */
  retransmissionCauses: Record<Cause, number>;
  /** The first retransmissions (up to 100), each with its cause, the rule that fired and the frames it rests on. */
  retransmissions: RetransmissionRecord[];
}

export interface ConnectionReport {
  index: number;
  /** Wireshark display filter for this connection. */
  filter: string;
  client: { ip: string; port: number };
  server: { ip: string; port: number };
  rolesFrom: 'syn' | 'port-guess';
  start: number;
  duration: number;
  firstFrame: number;
  lastFrame: number;
  state: string;
  history: string;
  handshake: {
    complete: boolean;
    /** Wireshark's tcp.completeness bits: 1 SYN (starting the stream), 2 SYN-ACK, 4 ACK, 8 data, 16 FIN, 32 RST. */
    completeness: number;
    synTime: number | null;
    synAckTime: number | null;
    ackTime: number | null;
    synAttempts: number;
    initialRttMs: number | null;
    options: { client: SynOpts | null; server: SynOpts | null };
    mss: { client: number | null; server: number | null };
    negotiated: { mss: number | null; windowScaling: boolean; clientShift: number | null; serverShift: number | null; sack: boolean; timestamps: boolean };
  };
  teardown: { clientFin: number | null; serverFin: number | null; firstFin: 'client' | 'server' | null; rst: { by: 'client' | 'server'; time: number } | null };
  clientToServer: DirectionReport;
  serverToClient: DirectionReport;
  /** Handshake and teardown packets, for a ladder diagram. */
  ladder: LadderStep[];
}

type SynOpts = { mss: number | null; wscale: number | null; sackPerm: boolean; timestamps: boolean };

export interface AnalysisResult {
  schemaVersion: number;
  generator: string;
  capture: {
    file: string;
    format: ReadSummary['format'];
    linktypes: number[];
    packets: number;
    tcpPackets: number;
    otherPackets: number;
    bytes: number;
    startTime: string | null;
    duration: number;
    partial: boolean;
    warnings: Array<{ offset: number; message: string }>;
    decodeIssues: Record<string, number>;
    /** Packets whose link type or ethertype the decoder does not follow, by that type ("linktype 147", "ethertype 0x88cc"). */
    undecoded: Record<string, number>;
  };
  connections: ConnectionReport[];
  flagFilters: typeof FLAG_FILTERS;
}


const NO_CAUSES = new CauseLog();

function direction(d: Direction, dur: number): DirectionReport {
  const s = d.sizes;
  const w = d.windows;
  const r = d.rtt;
  const tp = d.throughput;
  // The RTT series and the throughput bins are getters: built when read (by the JSON writer, or
  // for a chart), not held as 100 000 small arrays from here to the end of the run.
  return {
    packets: d.packets,
    bytes: d.bytes,
    payloadBytes: d.payloadBytes,
    dataSegments: s.n,
    truncatedPackets: d.truncated,
    segmentSize: {
      min: s.n ? s.min : 0, max: s.n ? s.max : 0, mean: s.n ? round(s.sum / s.n, 1) : 0,
      p50: s.percentile(50), p90: s.percentile(90), p99: s.percentile(99), top: s.top(), histogram: s.histogram(20),
    },
    aboveMss: d.aboveMss,
    window: { min: w.n ? w.min : 0, max: w.n ? w.max : 0, mean: w.n ? Math.round(w.sum / w.n) : 0 },
    rtt: {
      samples: r.n, minMs: r.n ? round(r.min, 3) : 0, medianMs: round(r.median(), 3), p90Ms: round(r.percentile(90), 3), p95Ms: round(r.percentile(95), 3), maxMs: r.n ? round(r.max, 3) : 0,
      meanMs: r.n ? round(r.sum / r.n, 3) : 0, get series() { return r.series(); },
    },
    throughput: {
      binSeconds: tp.binSeconds, get bytesPerBin() { return tp.bins; },
      meanBps: dur > 0 ? Math.round((d.payloadBytes * 8) / dur) : 0,
      peakBps: Math.round((tp.peak() * 8) / tp.binSeconds),
    },
    flags: d.flagCounts,
    flagFrames: d.flagFrames,
    retransmissionCauses: { ...(d.flow.causes ?? NO_CAUSES).counts },
    retransmissions: d.flow.causes?.records ?? [],
  };
}

export function connectionReport(c: TcpConnection): ConnectionReport {
  const c2s = c.c2s;
  const s2c = c.s2c;
  const co = c2s.synOptions;
  const so = s2c.synOptions;
  const dur = c.end - c.start;
  const both = (k: 'sackPerm' | 'timestamps'): boolean => Boolean(co?.[k] && so?.[k]);
  const ws = co?.wscale != null && so?.wscale != null;
  const firstFin = seen(c2s.firstFin) && (!seen(s2c.firstFin) || c2s.firstFin <= s2c.firstFin) ? 'client' : seen(s2c.firstFin) ? 'server' : null;
  const rstC = c2s.firstRst;
  const rstS = s2c.firstRst;
  const rst = seen(rstC) || seen(rstS) ? (seen(rstC) && (!seen(rstS) || rstC <= rstS) ? { by: 'client' as const, time: round(rstC) } : { by: 'server' as const, time: round(rstS) }) : null;
  return {
    index: c.index,
    filter: `tcp.stream eq ${c.index}`,
    client: c.client,
    server: c.server,
    rolesFrom: c.rolesKnown ? 'syn' : 'port-guess',
    start: round(c.start),
    duration: round(dur),
    firstFrame: c.firstFrame,
    lastFrame: c.lastFrame,
    state: c.state(),
    history: c.history,
    handshake: {
      complete: (c.completeness & 7) === 7,
      completeness: c.completeness,
      synTime: seen(c.synTime) ? round(c.synTime) : null,
      synAckTime: seen(c.synAckTime) ? round(c.synAckTime) : null,
      ackTime: seen(c.handshakeAckTime) ? round(c.handshakeAckTime) : null,
      synAttempts: c.synCount,
      initialRttMs: c.firstRtt > 0 ? round(c.firstRtt * 1000, 6) : null,
      options: { client: co, server: so },
      mss: { client: co?.mss ?? null, server: so?.mss ?? null },
      negotiated: {
        mss: co?.mss != null && so?.mss != null ? Math.min(co.mss, so.mss) : (co?.mss ?? so?.mss ?? null),
        windowScaling: ws, clientShift: ws ? co!.wscale : null, serverShift: ws ? so!.wscale : null,
        sack: both('sackPerm'), timestamps: both('timestamps'),
      },
    },
    teardown: {
      clientFin: seen(c2s.firstFin) ? round(c2s.firstFin) : null,
      serverFin: seen(s2c.firstFin) ? round(s2c.firstFin) : null,
      firstFin, rst,
    },
    clientToServer: direction(c2s, dur),
    serverToClient: direction(s2c, dur),
    ladder: c.ladder.map((l) => ({ ...l, t: round(l.t) })),
  };
}

/** Analyses a capture file. Throws coded errors for unreadable files; a truncated file yields `partial: true`. */
export function analyze(path: string, options: AnalyzeOptions = {}): AnalysisResult {
  const tracker = new TcpTracker();
  tracker.onPayload = options.onPayload;
  tracker.onAnalyzed = options.onAnalyzed;
  const dp = newDecodedPacket();
  // Per-packet state lives in object fields, not in closure variables: V8 stores a double into a
  // field in place, but boxes it anew for each store into a closure variable (one allocation per packet).
  const st = { t0Sec: -1, t0Nsec: 0, lastTime: 0, tcpPackets: 0, bytes: 0 };
  const issues: Record<string, number> = {};
  const undecoded: Record<string, number> = {};
  let startTime: string | null = null;
  let summary: ReadSummary;
  try {
    summary = readCapture(path, (raw) => {
      if (st.t0Sec < 0) {
        st.t0Sec = raw.sec;
        st.t0Nsec = raw.nsec;
        startTime = isoTime(raw.sec, raw.nsec);
      }
      const time = (raw.sec - st.t0Sec) + (raw.nsec - st.t0Nsec) / 1e9;
      st.lastTime = time;
      dp.time = time;
      st.bytes += raw.origlen;
      const status = decodePacket(raw.buf, raw.linktype, dp, raw.offset, raw.offset + raw.caplen, raw.offset + raw.origlen);
      if (status === 'ok') {
        st.tcpPackets++;
        tracker.handle(dp, raw.index, raw.origlen, raw.buf, raw.caplen < raw.origlen || dp.headerTruncated);
      } else {
        issues[status] = (issues[status] ?? 0) + 1;
        // what is not decoded is named, never dropped silently
        if (dp.unknownType >= 0) {
          const what = status === 'unsupported-link' ? `linktype ${dp.unknownType}` : `ethertype 0x${dp.unknownType.toString(16).padStart(4, '0')}`;
          undecoded[what] = (undecoded[what] ?? 0) + 1;
        }
      }
    }, options.onProgress ? { onProgress: options.onProgress } : {});
  } catch (err) {
    if (err instanceof AudioLabError && tracker.connections.length > 0) {
      // keep what was read: the caller gets the partial result on the error
      (err.context as Record<string, unknown>).partialResult = build(path, partialSummary(err), tracker.connections.map(connectionReport), st.tcpPackets, st.bytes, issues, undecoded, startTime, st.lastTime);
    }
    throw err;
  }
  return build(path, summary, tracker.connections.map(connectionReport), st.tcpPackets, st.bytes, issues, undecoded, startTime, st.lastTime);
}

/** What is known of a capture whose reading failed with `err` after some packets. */
function partialSummary(err: AudioLabError): ReadSummary {
  return { format: 'pcap', byteOrder: 'LE', packets: 0, fileBytes: 0, linktypes: [], partial: true, warnings: [{ offset: Number(err.context.offset ?? 0), message: err.message }] };
}

/** The result document from the reader's summary, the connections' reports and the capture's counts. */
function build(path: string, summary: ReadSummary, connections: ConnectionReport[], tcpPackets: number, bytes: number, issues: Record<string, number>, undecoded: Record<string, number>, startTime: string | null, lastTime: number): AnalysisResult {
  return {
    schemaVersion: SCHEMA_VERSION,
    generator: 'tcp-audio-lab analyze',
    capture: {
      file: basename(path),
      format: summary.format,
      linktypes: summary.linktypes,
      packets: summary.packets,
      tcpPackets,
      otherPackets: summary.packets - tcpPackets,
      bytes,
      startTime,
      duration: round(lastTime),
      partial: summary.partial,
      warnings: summary.warnings,
      decodeIssues: issues,
      undecoded,
    },
    connections,
    flagFilters: FLAG_FILTERS,
  };
}

/** A timestamp as an ISO date, or null past the dates JavaScript can show (±275 760 years: a pcapng timestamp may lie far beyond). */
function isoTime(sec: number, nsec: number): string | null {
  const ms = sec * 1000 + nsec / 1e6;
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : null;
}
