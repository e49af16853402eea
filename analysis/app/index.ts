/**
 * App-level analysis: plugs the protocol decoder into the TCP analysis (one pass over the capture)
 * and returns the TCP result plus what the audio system did on the wire.
 */
import { analyze, type AnalysisResult, type AnalyzeOptions } from '../analyze.ts';
import type { PacketRecord } from '../tcp/tracker.ts';
import { FLAG_BITS, FLAG_NAMES, type FlagName } from '../tcp/flags.ts';
import type { MessageName } from '../../services/protocol/index.ts';
import { AppDecoder, recognised, type Hole } from './decode.ts';
import { manifestFor, type LabManifest } from './manifest.ts';
import { AppModel, type ClientIdentity, type PlayRecord, type StreamRecord, type TimelineEvent } from './model.ts';
import { pairRelays, type LegEvents, type RelayRecord } from './relays.ts';

export interface AppReport {
  /** Connections on which our protocol was recognised. */
  connections: Array<{ conn: number; client: string; c2s: DirSummary; s2c: DirSummary }>;
  clients: ClientIdentity[];
  messageCounts: Partial<Record<MessageName, number>>;
  timeline: TimelineEvent[];
  streams: StreamRecord[];
  plays: PlayRecord[];
  relays: RelayRecord[];
  protocolErrors: AppModel['protocolErrors'];
  /** Directions that are not our protocol, or whose decoding stopped (gap, framing error). */
  undecoded: Array<{ conn: number; dir: 'c2s' | 's2c'; code: string; message: string; offset: number }>;
}

interface DirSummary { bytes: number; messages: number; gaps: number; lostBytes: number; holes: Hole[]; resyncs: number }

export interface FullAnalysis extends AnalysisResult {
  manifest: LabManifest | null;
  app: AppReport;
}

/** Each flag in words, for a capture's comments (the filter is tcp.analysis.<name>). */
const FLAG_WORDS: Record<FlagName, string> = {
  retransmission: 'retransmission', fastRetransmission: 'fast retransmission', spuriousRetransmission: 'spurious retransmission',
  outOfOrder: 'out-of-order segment', lostSegment: 'previous segment not captured', ackedUnseen: 'ACKs a segment not captured',
  dupAck: 'duplicate ACK', zeroWindow: 'zero window', zeroWindowProbe: 'zero-window probe', windowFull: 'window full',
  windowUpdate: 'window update', keepAlive: 'keep-alive',
};

const RETX = FLAG_BITS.retransmission | FLAG_BITS.fastRetransmission | FLAG_BITS.spuriousRetransmission;

/** The TCP analysis and our protocol read back from it (the TCP analysis alone: tcp-only.ts). */
/**
 * `annotations`: filled with a comment in words for each frame that starts one of our messages, and
 * for each frame a TCP analysis flag marks (an annotated capture's comments, cli's --annotate).
 */
export function analyzeWithApp(path: string, options: Pick<AnalyzeOptions, 'onProgress'> & { manifest?: LabManifest | null; annotations?: Map<number, string[]> } = {}): FullAnalysis {
  const manifest = manifestFor(path, options.manifest);
  const roles = new Map((manifest?.hosts ?? []).map((h) => [h.ip, h.role]));
  // (the model asks the decoder for endpoints: it meets a connection only through its messages)
  const model = new AppModel((i) => decoder.endpoint(i) ?? { ip: '?', port: 0 }, (ip) => roles.get(ip) ?? null);
  const decoder: AppDecoder = new AppDecoder(model);
  if (options.annotations) model.annotations = options.annotations;
  const flagged = options.annotations ? FLAG_NAMES.map((n) => [FLAG_BITS[n], FLAG_WORDS[n]] as const) : [];
  const legs = new Map<string, LegEvents>();
  const result = analyze(path, {
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    onPayload: decoder.onPayload,
    onAnalyzed: (rec: PacketRecord): void => {
      if (rec.flags !== 0) for (const [bit, words] of flagged) if (rec.flags & bit) model.note(rec.frame, `TCP analysis: ${words}`);
      if ((rec.flags & (FLAG_BITS.zeroWindow | RETX)) === 0) return;
      const dir = rec.fromA === rec.conn.clientIsA ? 'c2s' : 's2c';
      const key = `${rec.conn.index}/${dir}`;
      let l = legs.get(key);
      if (!l) legs.set(key, (l = { zeroWindow: [], retransmission: [] }));
      if (rec.flags & FLAG_BITS.zeroWindow) l.zeroWindow.push(rec.conn.end);
      if (rec.flags & RETX) l.retransmission.push(rec.conn.end);
    },
  });
  const end = result.capture.duration;
  decoder.finish(end);
  model.close(end);
  const undecoded: AppReport['undecoded'] = [];
  const connections: AppReport['connections'] = [];
  for (const a of decoder.connections) {
    for (const dir of ['c2s', 's2c'] as const) {
      const e = a[dir].error;
      if (e) undecoded.push({ conn: a.conn.index, dir, ...e });
    }
    if (recognised(a)) {
      const s = (d: typeof a.c2s): DirSummary => ({ bytes: d.bytes, messages: d.messages, gaps: d.gaps, lostBytes: d.lostBytes, holes: d.holes, resyncs: d.resyncs });
      connections.push({ conn: a.conn.index, client: model.nameOf(a.conn.index), c2s: s(a.c2s), s2c: s(a.s2c) });
    }
  }
  const app: AppReport = {
    connections,
    clients: [...model.clients.values()].filter((c) => connections.some((x) => x.conn === c.conn)),
    messageCounts: model.counts,
    timeline: model.timeline,
    streams: model.streams,
    plays: model.plays,
    relays: pairRelays(model.streams, model.tracks, model.catalog, legs),
    protocolErrors: model.protocolErrors,
    undecoded,
  };
  return { ...result, manifest, app };
}
