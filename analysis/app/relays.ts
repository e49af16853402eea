/**
 * Relays: the stream into the server (A's SEND_TO upload, or the server's own library for a
 * PLAY_ON) paired with the stream out to the receiver B by content (the same sha256, announced and
 * then verified on both legs). For A→server→B relays, each chunk leaving for B is matched with the
 * incoming chunk that completed its bytes: the difference is the time the bytes spent in the server
 * (the capture runs in the server's network namespace, so both legs share one clock).
 */
import type { ChunkTrack, StreamRecord } from './model.ts';
import { percentile, round } from '../tcp/stats.ts';

/** Per connection and direction: times of frames with flags that explain a stall. */
export interface LegEvents {
  zeroWindow: number[];
  retransmission: number[];
}

export interface RelayStall {
  start: number;
  durationMs: number;
  /** Which leg caused it, from the flags seen during the stall (or 'unknown'). */
  cause: string;
  filter: string;
}

export interface RelayRecord {
  kind: 'relay' | 'play-on';
  song: string;
  from: string;
  to: string;
  inStream: string | null;
  outStream: string;
  bytesIn: number;
  bytesOut: number;
  intact: boolean | null;
  /** The content matched: same sha256 on both legs (or the catalog's for a play-on); null: a leg the capture lacks bytes of cannot be judged. */
  contentMatched: boolean | null;
  delayMs: { samples: number; p50: number; p95: number; max: number; series: Array<[number, number]> } | null;
  stalls: RelayStall[];
}

const STALL_MIN_MS = 200;

const r3 = (n: number): number => round(n, 3);

/** Delay of each outgoing chunk: from the arrival of the last incoming byte it carries to its own first byte. */
function chunkDelays(inT: ChunkTrack, outT: ChunkTrack): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let j = 0;
  for (let i = 0; i < outT.offsets.length; i++) {
    const last = outT.offsets[i]! + outT.lengths[i]! - 1;
    // incoming chunks arrive in offset order: advance to the one that holds `last`
    while (j < inT.offsets.length && inT.offsets[j]! + inT.lengths[j]! - 1 < last) j++;
    if (j >= inT.offsets.length || inT.offsets[j]! > last) continue;
    out.push([outT.t0[i]!, (outT.t0[i]! - inT.t1[j]!) * 1000]);
  }
  return out;
}

function downsample<T>(xs: T[], max: number): T[] {
  if (xs.length <= max) return xs;
  const step = xs.length / max;
  return Array.from({ length: max }, (_, i) => xs[Math.floor(i * step)]!);
}

function countIn(times: number[] | undefined, a: number, b: number): number {
  if (!times) return 0;
  let n = 0;
  for (const t of times) if (t >= a && t <= b) n++;
  return n;
}

function stalls(outT: ChunkTrack, rec: StreamRecord, inRec: StreamRecord | null, inT: ChunkTrack | undefined, legs: Map<string, LegEvents>): RelayStall[] {
  const gaps: number[] = [];
  for (let i = 1; i < outT.t0.length; i++) gaps.push(outT.t0[i]! - outT.t0[i - 1]!);
  const sorted = [...gaps].sort((a, b) => a - b);
  const threshold = Math.max(STALL_MIN_MS / 1000, 20 * percentile(sorted, 50));
  const found: RelayStall[] = [];
  for (let i = 0; i < gaps.length; i++) {
    if (gaps[i]! < threshold) continue;
    const a = outT.t0[i]!;
    const b = outT.t0[i + 1]!;
    const causes: string[] = [];
    // B's leg: the receiver advertised a zero window, or the server retransmitted to it
    const bZero = countIn(legs.get(`${rec.conn}/c2s`)?.zeroWindow, a, b);
    const bRetx = countIn(legs.get(`${rec.conn}/s2c`)?.retransmission, a, b);
    if (bZero) causes.push(`B's leg: ${rec.client} advertised a zero window (${bZero}×)`);
    if (bRetx) causes.push(`B's leg: ${bRetx} retransmission(s) to ${rec.client}`);
    if (inRec) {
      const aRetx = countIn(legs.get(`${inRec.conn}/c2s`)?.retransmission, a, b);
      const aZero = countIn(legs.get(`${inRec.conn}/s2c`)?.zeroWindow, a, b);
      if (aRetx) causes.push(`A's leg: ${aRetx} retransmission(s) from ${inRec.client}`);
      if (aZero) causes.push(`A's leg: the server's window to ${inRec.client} was zero (${aZero}×, back-pressure)`);
      if (!causes.length && countIn(inT?.t1, a, b) === 0) causes.push(`A's leg: ${inRec.client} sent nothing`);
    }
    found.push({
      start: r3(a), durationMs: r3((b - a) * 1000), cause: causes.join('; ') || 'unknown',
      filter: `frame.time_relative >= ${a.toFixed(6)} && frame.time_relative <= ${b.toFixed(6)} && tcp.stream in {${[rec.conn, inRec?.conn].filter((x) => x !== undefined).join(' ')}}`,
    });
  }
  return found;
}

/** Both legs intact: false if either is broken, unknown (null) if neither is but one cannot be judged. */
export function bothLegs(a: boolean | null, b: boolean | null): boolean | null {
  if (a === false || b === false) return false;
  return a === null || b === null ? null : true;
}

export function pairRelays(streams: StreamRecord[], tracks: Map<string, ChunkTrack>, catalog: Map<string, string>, legs: Map<string, LegEvents>): RelayRecord[] {
  const ins = streams.filter((s) => s.kind === 'send-to');
  const used = new Set<string>();
  const relays: RelayRecord[] = [];
  for (const out of streams) {
    if (out.kind !== 'relay' && out.kind !== 'play-on') continue;
    const outT = tracks.get(out.id)!;
    if (out.kind === 'play-on') {
      const lib = catalog.get(out.song) ?? out.declaredSha256;
      relays.push({
        kind: 'play-on', song: out.song, from: out.peer ?? '?', to: out.client, inStream: null, outStream: out.id,
        bytesIn: 0, bytesOut: out.bytes, intact: out.intact, contentMatched: out.sha256 === null ? null : out.sha256 === lib,
        delayMs: null, stalls: stalls(outT, out, null, undefined, legs),
      });
      continue;
    }
    // the incoming leg: a SEND_TO from the named sender with the same content
    // (the same song sent to several receivers: the SEND_TO that named this receiver)
    const same = (s: StreamRecord): boolean => !used.has(s.id) && s.declaredSha256 === out.declaredSha256;
    const cand = ins.find((s) => same(s) && s.client === out.peer && s.peer === out.client)
      ?? ins.find((s) => same(s) && (out.peer === null || s.client === out.peer))
      ?? ins.find(same);
    if (cand) used.add(cand.id);
    const inT = cand ? tracks.get(cand.id) : undefined;
    const delays = inT ? chunkDelays(inT, outT) : [];
    const sorted = delays.map(([, d]) => d).sort((a, b) => a - b);
    relays.push({
      kind: 'relay', song: out.song, from: cand?.client ?? out.peer ?? '?', to: out.client, inStream: cand?.id ?? null, outStream: out.id,
      bytesIn: cand?.bytes ?? 0, bytesOut: out.bytes,
      intact: cand ? bothLegs(out.intact, cand.intact) : out.intact,
      contentMatched: !cand ? false : cand.sha256 === null || out.sha256 === null ? null : cand.sha256 === out.sha256,
      delayMs: delays.length ? {
        samples: delays.length, p50: r3(percentile(sorted, 50)), p95: r3(percentile(sorted, 95)), max: r3(sorted[sorted.length - 1]!),
        series: downsample(delays, 400).map(([t, d]) => [r3(t * 1000) / 1000, r3(d)]),
      } : null,
      stalls: stalls(outT, out, cand ?? null, inT, legs),
    });
  }
  return relays;
}
