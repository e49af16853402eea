/**
 * From decoded messages to what happened: who each client is, the message timeline, every song
 * transfer (stream) with its integrity, the plays (from the network or the cache), and the relays —
 * a stream into the server paired by content with the stream out to its receiver, with the delay
 * each chunk spent in the server and the stalls, blamed on the leg that caused them.
 */
import { createHash, type Hash } from 'node:crypto';
import type { MessageName, MessageOf } from '../../services/protocol/index.ts';
import type { AppMessage, AppSink, DataChunk, Dir } from './decode.ts';

export interface ClientIdentity {
  conn: number;
  ip: string;
  port: number;
  /** Name the client asked for (HELLO) and the one the server gave it (WELCOME). */
  asked: string | null;
  name: string | null;
  id: number | null;
  software: string | null;
  /** Role from the lab manifest (lab.json), by address. */
  role: string | null;
  connectedAt: number;
}

export type StreamKind = 'play' | 'play-on' | 'relay' | 'upload' | 'send-to';

export interface StreamRecord {
  id: string;
  conn: number;
  /** c2s: from the client into the server; s2c: from the server to the client. */
  dir: Dir;
  streamId: number;
  kind: StreamKind;
  song: string;
  client: string;
  /** For relays and play-ons into a receiver: who asked; for send-to: the receiver. */
  peer: string | null;
  size: number;
  offset: number;
  declaredSha256: string | null;
  sha256: string | null;
  bytes: number;
  chunks: number;
  start: number;
  end: number;
  durationMs: number;
  throughputBps: number;
  status: 'complete' | 'aborted' | 'incomplete';
  abort: { code: string; message: string } | null;
  /** Bytes all arrived, in order, and hash to the declared (or catalog) sha256. */
  intact: boolean | null;
  filter: string;
}

/** Per-chunk timing, kept for relay pairing (not serialised). */
export interface ChunkTrack {
  offsets: number[];
  lengths: number[];
  /** Capture time of the chunk's first and last byte. */
  t0: number[];
  t1: number[];
  frames: number[];
}

export interface PlayRecord {
  client: string;
  song: string;
  t: number;
  source: 'network' | 'cache';
  resumedFrom: number;
  stream: string | null;
}

export interface TimelineEvent {
  t: number;
  conn: number;
  client: string;
  dir: Dir;
  type: MessageName;
  frame: number;
  text: string;
}

interface Live {
  rec: StreamRecord;
  hash: Hash | null;
  expect: number;
  track: ChunkTrack;
}

export class AppModel implements AppSink {
  readonly clients = new Map<number, ClientIdentity>();
  readonly timeline: TimelineEvent[] = [];
  /** With `annotate`: a comment for each frame that starts a message, in words (an annotated capture's). */
  annotations: Map<number, string[]> | null = null;
  readonly counts: Partial<Record<MessageName, number>> = {};
  readonly streams: StreamRecord[] = [];
  readonly tracks = new Map<string, ChunkTrack>();
  readonly plays: PlayRecord[] = [];
  readonly protocolErrors: Array<{ conn: number; dir: Dir; t: number; frame: number; code: string; message: string }> = [];
  /** Catalog songs seen on the wire (name → sha256). */
  readonly catalog = new Map<string, string>();
  private readonly live = new Map<string, Live>();
  /** Pending uploads / send-tos by connection and request id, waiting for READY. */
  private readonly pendingReq = new Map<string, { kind: 'upload' | 'send-to'; msg: MessageOf<'UPLOAD'> | MessageOf<'SEND_TO'> }>();

  private readonly endpoint: (conn: number) => { ip: string; port: number };
  private readonly roleOf: (ip: string) => string | null;

  constructor(endpoint: (conn: number) => { ip: string; port: number }, roleOf: (ip: string) => string | null) {
    this.endpoint = endpoint;
    this.roleOf = roleOf;
  }

  private client(conn: number, t: number): ClientIdentity {
    let c = this.clients.get(conn);
    if (!c) {
      const e = this.endpoint(conn);
      c = { conn, ip: e.ip, port: e.port, asked: null, name: null, id: null, software: null, role: this.roleOf(e.ip), connectedAt: t };
      this.clients.set(conn, c);
    }
    return c;
  }

  nameOf(conn: number): string {
    const c = this.clients.get(conn);
    return c?.name ?? c?.asked ?? c?.role ?? `${c?.ip ?? '?'}:${c?.port ?? '?'}`;
  }

  message(m: AppMessage): void {
    this.counts[m.type] = (this.counts[m.type] ?? 0) + 1;
    const c = this.client(m.conn, m.t);
    const msg = m.msg;
    let text: string = msg.type;
    switch (msg.type) {
      case 'HELLO': c.asked = msg.name; c.software = msg.software ?? null; text = `HELLO as ${msg.name}`; break;
      case 'WELCOME': {
        c.name = msg.name; c.id = msg.clientId;
        const more = msg.online - msg.clients.length;
        text = `WELCOME #${msg.clientId} ${msg.name}; online: ${msg.clients.map((x) => x.name).join(', ') || 'nobody else'}${more > 0 ? ` and ${more} more` : ''}`;
        break;
      }
      case 'PRESENCE': text = `PRESENCE ${msg.event} ${msg.client.name}`; break;
      case 'ONLINE': text = `ONLINE ${msg.online} online after ${msg.changes} changes`; break;
      case 'LIST': text = 'LIST'; break;
      case 'CATALOG':
        for (const s of msg.songs) this.catalog.set(s.name, s.sha256);
        text = `CATALOG ${msg.songs.length} songs`;
        break;
      case 'PLAY': text = `PLAY ${msg.song}${msg.offset ? ` from byte ${msg.offset}` : ''}`; break;
      case 'PLAYED':
        this.plays.push({ client: this.nameOf(m.conn), song: msg.song, t: m.t, source: 'cache', resumedFrom: 0, stream: null });
        text = `PLAYED ${msg.song} from the ${msg.source} (no transfer)`;
        break;
      case 'STREAM_START': this.startStream(m, msg); text = `STREAM_START #${msg.streamId} ${msg.kind} ${msg.song}${msg.from ? ` from ${msg.from}` : ''}`; break;
      case 'STREAM_END': this.endStream(m, msg.streamId, 'complete', null); text = `STREAM_END #${msg.streamId} ${msg.bytes} bytes`; break;
      case 'RECEIVED': text = `RECEIVED #${msg.streamId} ${msg.bytes} bytes, verified`; break;
      case 'STREAM_ABORT': this.endStream(m, msg.streamId, 'aborted', { code: msg.code, message: msg.message }); text = `STREAM_ABORT #${msg.streamId} ${msg.code}`; break;
      case 'UPLOAD': this.pendingReq.set(`${m.conn}/${msg.req}`, { kind: 'upload', msg }); text = `UPLOAD ${msg.name} (${msg.size} bytes)`; break;
      case 'SEND_TO': this.pendingReq.set(`${m.conn}/${msg.req}`, { kind: 'send-to', msg }); text = `SEND_TO ${msg.target}: ${msg.name}`; break;
      case 'READY': this.ready(m, msg); text = `READY #${msg.streamId}`; break;
      case 'UPLOAD_DONE': text = `UPLOAD_DONE ${msg.name}`; break;
      case 'LISTEN': text = msg.accept ? 'LISTEN' : 'LISTEN off'; break;
      case 'PLAY_ON': text = `PLAY_ON ${msg.song} on ${msg.target}`; break;
      case 'INVITE': text = `INVITE #${msg.streamId} ${msg.kind} ${msg.song} from ${msg.from}`; break;
      case 'ACCEPT': text = `ACCEPT #${msg.streamId}`; break;
      case 'REFUSE': text = `REFUSE #${msg.streamId}: ${msg.reason}`; break;
      case 'OK': text = `OK req ${msg.req}${msg.status ? ` ${msg.status}` : ''}`; break;
      case 'ERROR':
        this.protocolErrors.push({ conn: m.conn, dir: m.dir, t: m.t, frame: m.frame, code: msg.code, message: msg.message });
        text = `ERROR ${msg.code}: ${msg.message}`;
        break;
      case 'BYE': text = `BYE ${msg.reason}`; break;
      default: break;
    }
    this.timeline.push({ t: m.t, conn: m.conn, client: this.nameOf(m.conn), dir: m.dir, type: msg.type, frame: m.frame, text });
    this.note(m.frame, `${this.arrow(m.conn, m.dir)}: ${text}`);
  }

  private open(m: AppMessage, streamId: number, dir: Dir, kind: StreamKind, song: string, peer: string | null, size: number, offset: number, sha: string | null): void {
    const id = `${m.conn}/${dir}/${streamId}`;
    const rec: StreamRecord = {
      id, conn: m.conn, dir, streamId, kind, song, client: this.nameOf(m.conn), peer, size, offset, declaredSha256: sha, sha256: null,
      bytes: 0, chunks: 0, start: m.t, end: m.t, durationMs: 0, throughputBps: 0, status: 'incomplete', abort: null, intact: null,
      filter: `tcp.stream eq ${m.conn} && audiolab.stream_id == ${streamId}`,
    };
    this.streams.push(rec);
    const track: ChunkTrack = { offsets: [], lengths: [], t0: [], t1: [], frames: [] };
    this.tracks.set(id, track);
    this.live.set(id, { rec, hash: offset === 0 ? createHash('sha256') : null, expect: offset, track });
    if (kind === 'play') this.plays.push({ client: rec.client, song, t: m.t, source: 'network', resumedFrom: offset, stream: id });
  }

  private startStream(m: AppMessage, s: MessageOf<'STREAM_START'>): void {
    const kind = (['play', 'play-on', 'relay'].includes(s.kind) ? s.kind : 'play') as StreamKind;
    this.open(m, s.streamId, m.dir, kind, s.song, s.from ?? null, s.size, s.offset, s.sha256);
  }

  private ready(m: AppMessage, r: MessageOf<'READY'>): void {
    const key = `${m.conn}/${r.req}`;
    const p = this.pendingReq.get(key);
    if (!p) return;
    this.pendingReq.delete(key);
    const peer = p.kind === 'send-to' ? (p.msg as MessageOf<'SEND_TO'>).target : null;
    this.open(m, r.streamId, 'c2s', p.kind, p.msg.name, peer, p.msg.size, 0, p.msg.sha256);
  }

  /** Adds a comment to a frame (only when annotating). */
  note(frame: number, text: string): void {
    if (!this.annotations) return;
    const list = this.annotations.get(frame);
    if (list) list.push(text);
    else this.annotations.set(frame, [text]);
  }

  /** "client-a → server" or "server → client-a", for a connection and direction. */
  arrow(conn: number, dir: Dir): string {
    const c = this.nameOf(conn);
    return dir === 'c2s' ? `${c} → server` : `server → ${c}`;
  }

  /** A DATA frame arrives: a chunk of its stream (if the stream is known), hashed as its pieces pass. */
  dataStart(conn: number, dir: Dir, streamId: number, seq: number, offset: number, length: number): DataChunk {
    const l = this.live.get(`${conn}/${dir}/${streamId}`) ?? null;
    if (l && offset !== l.expect) l.hash = null; // not contiguous: integrity cannot be shown
    const counts = this.counts;
    const note = this.annotations ? (frame: number): void => this.note(frame, `${this.arrow(conn, dir)}: DATA stream ${streamId} chunk ${seq} (offset ${offset}, ${length} bytes)`) : null;
    return {
      bytes(piece: Buffer): void {
        l?.hash?.update(piece);
      },
      end(t: number, frame: number, tEnd: number): void {
        counts.DATA = (counts.DATA ?? 0) + 1;
        note?.(frame);
        if (!l) return;
        const r = l.rec;
        l.expect = offset + length;
        r.bytes += length;
        r.chunks++;
        r.end = tEnd;
        const k = l.track;
        k.offsets.push(offset); k.lengths.push(length); k.t0.push(t); k.t1.push(tEnd); k.frames.push(frame);
      },
      abort(): void {
        // the chunk lost its end in a hole: the stream can no longer be verified
        if (l) l.hash = null;
      },
    };
  }

  private endStream(m: AppMessage, streamId: number, status: 'complete' | 'aborted', abort: { code: string; message: string } | null): void {
    // STREAM_END/ABORT travel in the direction of the data, except an abort by the receiver
    const id = [`${m.conn}/${m.dir}/${streamId}`, `${m.conn}/${m.dir === 'c2s' ? 's2c' : 'c2s'}/${streamId}`].find((k) => this.live.has(k));
    if (!id) return;
    const l = this.live.get(id)!;
    this.live.delete(id);
    this.finish(l, status, abort, m.tEnd);
  }

  private finish(l: Live, status: StreamRecord['status'], abort: StreamRecord['abort'], t: number): void {
    const r = l.rec;
    r.status = status;
    r.abort = abort;
    r.end = Math.max(r.end, t);
    r.durationMs = (r.end - r.start) * 1000;
    r.throughputBps = r.durationMs > 0 ? Math.round((r.bytes * 8) / (r.durationMs / 1000)) : 0;
    r.sha256 = l.hash ? l.hash.digest('hex') : null;
    const expected = r.declaredSha256 ?? this.catalog.get(r.song) ?? null;
    r.intact = status === 'complete' && r.sha256 !== null && expected !== null ? r.sha256 === expected && r.bytes === r.size - r.offset : status === 'complete' ? null : false;
  }

  /**
   * Ends the capture: streams still open are incomplete, and every record is named by its
   * connection's client as finally known (a name can arrive after the first records, e.g. when the
   * capture began mid-connection and HELLO was never seen, or the manifest names the address).
   */
  close(t: number): void {
    for (const l of this.live.values()) this.finish(l, 'incomplete', null, t);
    this.live.clear();
    for (const e of this.timeline) e.client = this.nameOf(e.conn);
    for (const s of this.streams) s.client = this.nameOf(s.conn);
    const byId = new Map<string, StreamRecord>();
    for (const s of this.streams) if (!byId.has(s.id)) byId.set(s.id, s); // (the first, as find() gave)
    for (const p of this.plays) {
      const s = p.stream ? byId.get(p.stream) : undefined;
      if (s) p.client = s.client;
    }
  }

}
