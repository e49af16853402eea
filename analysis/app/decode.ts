/**
 * Our protocol, read back from a capture: each TCP connection's payload is reassembled per direction
 * (tcp/reassembly.ts) and fed to the protocol's own frame decoder and message validator
 * (services/protocol) — the same code the server and client run, not a copy.
 *
 * Every message becomes an `AppMessage` (time and capture frames of its first and last byte); DATA
 * frames are handed on without being kept (streams.ts aggregates them). A direction whose bytes are
 * not our protocol (bad magic) or break framing stops being decoded, with the coded error recorded.
 */
import {
  FrameDecoder, decodeFrame, messageNameOf, HEADER_SIZE, MAGIC_0, MAGIC_1, MAX_CONTROL_PAYLOAD, MAX_PAYLOAD, DATA_HEADER_SIZE, SUPPORTED_VERSIONS,
  type Message, type MessageName,
} from '../../services/protocol/index.ts';
import { AudioLabError } from '../../services/errors.ts';
import { StreamReassembler } from '../tcp/reassembly.ts';
import type { Connection } from '../tcp/connection.ts';

export type Dir = 'c2s' | 's2c';

export interface AppMessage {
  conn: number;
  dir: Dir;
  type: MessageName;
  /** Capture-relative seconds and frame numbers of the message's first and last byte. */
  t: number;
  tEnd: number;
  frame: number;
  frameEnd: number;
  /** Bytes on the wire (header included). */
  size: number;
  msg: Message;
}

export interface DirectionDecodeState {
  bytes: number;
  messages: number;
  /** Holes in the captured byte stream (segments the capture missed or truncated) and their bytes. */
  gaps: number;
  lostBytes: number;
  /** Times the decoder found the next frame boundary again after a hole. */
  resyncs: number;
  error: { code: string; message: string; offset: number } | null;
}

export interface AppConnection {
  conn: Connection;
  /** Our protocol was recognised in at least one direction. */
  recognised: boolean;
  c2s: DirectionDecodeState;
  s2c: DirectionDecodeState;
}

export interface AppSink {
  message(m: AppMessage): void;
}

/** A chunk boundary: stream offset → when and in which frame it arrived. */
interface Mark { offset: number; t: number; frame: number }

class DirectionDecoder {
  readonly state: DirectionDecodeState = { bytes: 0, messages: 0, gaps: 0, lostBytes: 0, resyncs: 0, error: null };
  private readonly reasm: StreamReassembler;
  private decoder: FrameDecoder;
  /** After a hole: bytes held while looking for the next frame header. */
  private resync: { buf: Buffer; offset: number } | null = null;
  /** Boundaries of the chunks that hold the frame being decoded (pruned as frames complete). */
  private marks: Mark[] = [];
  private frameStart = 0;
  private cur: Mark = { offset: 0, t: 0, frame: 0 };
  stopped = false;

  private readonly connIndex: number;
  private readonly dir: Dir;
  private readonly sink: AppSink;

  constructor(connIndex: number, dir: Dir, sink: AppSink) {
    this.connIndex = connIndex;
    this.dir = dir;
    this.sink = sink;
    this.reasm = new StreamReassembler({
      data: (bytes, offset, t, frame) => this.data(bytes, offset, t, frame),
      gap: (offset, length) => this.gap(offset, length),
    });
    this.decoder = this.newDecoder();
  }

  private newDecoder(): FrameDecoder {
    // a replaced decoder (after a hole or a false start) may still be inside push(): ignore it
    const d: FrameDecoder = new FrameDecoder(
      (f) => { if (this.decoder === d && !this.resync) this.frame(f.type, f.version, f.payload); },
      (e) => { if (this.decoder === d && !this.resync) this.fail(e, this.frameStart); },
    );
    return d;
  }

  finish(t: number): void {
    this.reasm.finish(t);
  }

  start(seq: number): void {
    this.reasm.start(seq);
  }

  push(seq: number, data: Buffer, t: number, frame: number, seglen: number): void {
    if (!this.stopped) this.reasm.push(seq, data, t, frame, seglen);
  }

  private data(bytes: Buffer, offset: number, t: number, frame: number): void {
    if (this.stopped) return;
    this.state.bytes += bytes.length;
    this.cur = { offset, t, frame };
    if (this.resync) {
      const r = this.resync;
      r.buf = r.buf.length ? Buffer.concat([r.buf, bytes]) : Buffer.from(bytes);
      const at = findHeader(r.buf);
      if (at < 0) {
        // keep the tail that could still begin a header
        const keep = Math.min(r.buf.length, HEADER_SIZE + 1);
        r.offset += r.buf.length - keep;
        r.buf = r.buf.subarray(r.buf.length - keep);
        return;
      }
      this.resync = null;
      this.state.resyncs++;
      this.frameStart = r.offset + at;
      this.cur = { offset: this.frameStart, t, frame };
      this.marks = [this.cur];
      this.decoder.push(r.buf.subarray(at));
      return;
    }
    this.marks.push(this.cur);
    // copy: the capture's buffer is reused, and the decoder may hold a partial frame across chunks
    this.decoder.push(Buffer.from(bytes));
  }

  /**
   * A hole in the stream: the frame in progress is lost; look for the next frame header after it.
   * Only for a direction already known to speak our protocol; otherwise decoding stops.
   */
  private gap(offset: number, length: number): void {
    this.state.gaps++;
    this.state.lostBytes += length;
    if (this.state.messages === 0) {
      this.fail(new AudioLabError('AUDIOLAB_ERR_CAPTURE_CORRUPT', `${length} bytes at stream offset ${offset} are missing from the capture before any message`), offset);
      return;
    }
    this.decoder = this.newDecoder();
    this.marks = [];
    this.resync = { buf: Buffer.alloc(0), offset: offset + length };
  }

  private frame(type: number, version: number, payload: Buffer): void {
    const size = HEADER_SIZE + payload.length;
    const start = this.frameStart;
    this.frameStart += size;
    // the chunk that held the first byte: the last mark at or before `start`
    let i = 0;
    while (i + 1 < this.marks.length && this.marks[i + 1]!.offset <= start) i++;
    const first = this.marks[i] ?? this.cur;
    // keep only the marks the next frame can still start in
    let keep = this.marks.length - 1;
    while (keep > 0 && this.marks[keep]!.offset > this.frameStart) keep--;
    this.marks = this.marks.slice(keep);
    let msg: Message;
    try {
      msg = decodeFrame({ type, version, payload });
    } catch (err) {
      this.fail(err, start);
      return;
    }
    this.state.messages++;
    this.sink.message({ conn: this.connIndex, dir: this.dir, type: msg.type, t: first.t, tEnd: this.cur.t, frame: first.frame, frameEnd: this.cur.frame, size, msg });
  }

  private fail(err: unknown, offset: number): void {
    if (this.state.gaps > 0 && this.state.messages > 0 && !this.resync) {
      // after a hole, a false start (bytes that looked like a header): look again further on
      this.decoder = this.newDecoder();
      this.marks = [];
      this.resync = { buf: Buffer.alloc(0), offset: this.frameStart + 1 };
      return;
    }
    if (this.state.error) return;
    const e = err instanceof AudioLabError ? err : new AudioLabError('AUDIOLAB_ERR_BAD_PAYLOAD', String(err));
    this.state.error = { code: e.code, message: e.message, offset };
    this.stopped = true;
    this.marks = [];
  }
}

/**
 * The first position in `b` where a plausible frame header starts: magic, a version we speak, a known
 * type, a length within limits (a JSON payload starts with '{'). -1 if none.
 */
export function findHeader(b: Buffer): number {
  for (let i = b.indexOf(MAGIC_0); i >= 0 && i + HEADER_SIZE <= b.length; i = b.indexOf(MAGIC_0, i + 1)) {
    if (b[i + 1] !== MAGIC_1 || !SUPPORTED_VERSIONS.includes(b[i + 2]!)) continue;
    const name = messageNameOf(b[i + 3]!);
    if (!name) continue;
    const len = b.readUInt32BE(i + 4);
    if (name === 'DATA' ? len < DATA_HEADER_SIZE || len > MAX_PAYLOAD : len > MAX_CONTROL_PAYLOAD || len < 2) continue;
    if (name !== 'DATA' && i + HEADER_SIZE < b.length && b[i + HEADER_SIZE] !== 0x7b) continue;
    return i;
  }
  return -1;
}

/** Decodes our protocol on every connection of a capture; plug `onPayload` into analyze(). */
export class AppDecoder {
  readonly connections: AppConnection[] = [];
  private readonly dirs = new Map<number, { c2s: DirectionDecoder; s2c: DirectionDecoder; app: AppConnection }>();

  private readonly sink: AppSink;

  constructor(sink: AppSink) {
    this.sink = sink;
  }

  /** End of the capture: bytes still waiting behind holes are decoded after them. */
  finish(t: number): void {
    for (const d of this.dirs.values()) {
      d.c2s.finish(t);
      d.s2c.finish(t);
      if (d.c2s.state.messages + d.s2c.state.messages > 0) d.app.recognised = true;
    }
  }

  readonly onPayload = (conn: Connection, fromClient: boolean, seq: number, data: Buffer, t: number, frame: number, seglen: number): void => {
    let d = this.dirs.get(conn.index);
    if (!d) {
      const c2s = new DirectionDecoder(conn.index, 'c2s', this.sink);
      const s2c = new DirectionDecoder(conn.index, 's2c', this.sink);
      // with the handshake seen, streams start right after the SYN (a lost first segment is a gap)
      if (conn.c2s.synOptions) c2s.start((conn.c2s.flow.baseSeq + 1) >>> 0);
      if (conn.s2c.synOptions) s2c.start((conn.s2c.flow.baseSeq + 1) >>> 0);
      const app: AppConnection = { conn, recognised: false, c2s: c2s.state, s2c: s2c.state };
      this.connections.push(app);
      d = { c2s, s2c, app };
      this.dirs.set(conn.index, d);
    }
    const dd = fromClient ? d.c2s : d.s2c;
    if (dd.stopped) return;
    dd.push(seq, data, t, frame, seglen);
    if (dd.state.messages > 0) d.app.recognised = true;
  };
}
