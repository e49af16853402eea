/**
 * Our protocol, read back from a capture: each TCP connection's payload is reassembled per direction
 * (tcp/reassembly.ts) and fed to the protocol's own frame decoder and message validator
 * (services/protocol) — the same code the server and client run, not a copy.
 *
 * Every message becomes an `AppMessage` (time and capture frames of its first and last byte); DATA
 * frames are streamed (header, then the audio in pieces, never assembled or copied) to model.ts,
 * which hashes the audio as it passes. A direction whose bytes are
 * not our protocol (bad magic) or break framing stops being decoded, with the coded error recorded.
 */
import {
  FrameDecoder, decodeFrame, findFrameHeader, readDataHeader, HEADER_SIZE, DATA_HEADER_SIZE, MESSAGES, type Message, type MessageName,
} from '../../services/protocol/index.ts';
import { AudioLabError } from '../../services/protocol/errors.ts';
import { StreamReassembler } from '../tcp/reassembly.ts';
import type { TcpConnection } from '../tcp/connection.ts';

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
  /** The first holes (up to MAX_HOLES): where in the stream, how long, next to which frame, and why. */
  holes: Hole[];
  /** Times the decoder found the next frame boundary again after a hole. */
  resyncs: number;
  error: { code: string; message: string; offset: number } | null;
}

/**
 * A hole in a direction's captured bytes. `cut`: the frame was captured shorter than it was sent
 * (snap length: Wireshark's frame.cap_len < frame.len) and `frame` is it; `not-captured`: no frame
 * carried these bytes (the capture dropped or missed them) and the hole lies before `frame`.
 */
export interface Hole { offset: number; length: number; frame: number; why: 'cut' | 'not-captured' }

const MAX_HOLES = 10;

export interface AppConnection {
  conn: TcpConnection;
  c2s: DirectionDecodeState;
  s2c: DirectionDecodeState;
}

/** Our protocol was recognised in at least one direction. */
export const recognised = (a: AppConnection): boolean => a.c2s.messages + a.s2c.messages > 0;

export interface AppSink {
  /** Every message but DATA. */
  message(m: AppMessage): void;
  /**
   * A DATA frame: its header (with where its first byte arrived) opens a chunk, which then receives
   * the audio in pieces and its end. Chunks of different directions interleave in capture order.
   */
  dataStart(conn: number, dir: Dir, streamId: number, seq: number, offset: number, length: number, t: number, frame: number): DataChunk;
}

export interface DataChunk {
  bytes(piece: Buffer): void;
  end(t: number, frame: number, tEnd: number, frameEnd: number): void;
  /** The chunk will not end (a hole in the capture, or decoding stopped). */
  abort(): void;
}

class DirectionDecoder {
  readonly state: DirectionDecodeState = { bytes: 0, messages: 0, gaps: 0, lostBytes: 0, holes: [], resyncs: 0, error: null };
  private readonly reasm: StreamReassembler;
  private decoder: FrameDecoder;
  /** After a hole: bytes held while looking for the next frame header. */
  private resync: { buf: Buffer; offset: number } | null = null;
  /** Stream offset of the frame being decoded, and where its first byte arrived. */
  private frameStart = 0;
  private hasStart = false;
  private startT = 0;
  private startFrame = 0;
  /** The chunk being decoded: its time, frame and end offset. */
  private curT = 0;
  private curFrame = 0;
  private curEnd = 0;
  /** The DATA frame being streamed. */
  private chunk: DataChunk | null = null;
  private dataT = 0;
  private dataFrame = 0;
  private dataLength = 0;
  private stopped = false;

  private readonly connIndex: number;
  private readonly dir: Dir;
  private readonly sink: AppSink;

  constructor(connIndex: number, dir: Dir, sink: AppSink) {
    this.connIndex = connIndex;
    this.dir = dir;
    this.sink = sink;
    this.reasm = new StreamReassembler({
      data: (bytes, offset, t, frame) => this.data(bytes, offset, t, frame),
      gap: (offset, length, _t, frame, cut) => this.gap(offset, length, frame, cut),
    });
    this.decoder = this.newDecoder();
  }

  private newDecoder(): FrameDecoder {
    // a replaced decoder (after a hole or a false start) may still be inside push(): ignore it
    const live = (): boolean => this.decoder === d && !this.resync && !this.stopped;
    const d: FrameDecoder = new FrameDecoder(
      (f) => { if (live()) this.frame(f.type, f.version, f.payload); },
      (e) => { if (live()) this.fail(e, this.frameStart); },
      {
        // the capture's buffers are reused: what the decoder keeps between pushes is copied
        copyRetained: true,
        // DATA's audio is hashed as it passes, never assembled
        streamed: {
          type: MESSAGES.DATA.code,
          headerBytes: DATA_HEADER_SIZE,
          onStart: (_v, _t, length, h) => { if (live()) this.dataStart(length, h); },
          onBytes: (b) => { if (live()) this.chunk?.bytes(b); },
          onEnd: () => { if (live()) this.dataEnd(); },
        },
      },
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
    this.curT = t;
    this.curFrame = frame;
    this.curEnd = offset + bytes.length;
    if (this.resync) {
      const r = this.resync;
      r.buf = r.buf.length ? Buffer.concat([r.buf, bytes]) : Buffer.from(bytes);
      const at = findFrameHeader(r.buf);
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
      this.markStart();
      this.decoder.push(r.buf.subarray(at));
      return;
    }
    if (!this.hasStart) this.markStart();
    this.decoder.push(bytes);
  }

  /** The frame at frameStart begins in the current chunk. */
  private markStart(): void {
    this.hasStart = true;
    this.startT = this.curT;
    this.startFrame = this.curFrame;
  }

  /** A frame of `size` bytes ended: the next one begins in this chunk, or in the next. */
  private advance(size: number): void {
    this.frameStart += size;
    if (this.frameStart < this.curEnd) this.markStart();
    else this.hasStart = false;
  }

  private dataStart(length: number, h: Buffer): void {
    this.dataT = this.startT;
    this.dataFrame = this.startFrame;
    this.dataLength = length;
    let d: ReturnType<typeof readDataHeader>;
    try {
      d = readDataHeader(h);
    } catch (err) {
      this.fail(err, this.frameStart);
      return;
    }
    this.chunk = this.sink.dataStart(this.connIndex, this.dir, d.streamId, d.seq, d.offset, length - DATA_HEADER_SIZE, this.startT, this.startFrame);
  }

  private abortChunk(): void {
    this.chunk?.abort();
    this.chunk = null;
  }

  private dataEnd(): void {
    this.state.messages++;
    this.chunk?.end(this.dataT, this.dataFrame, this.curT, this.curFrame);
    this.chunk = null;
    this.advance(HEADER_SIZE + this.dataLength);
  }

  /**
   * A hole in the stream: the frame in progress is lost; look for the next frame header after it.
   * Only for a direction already known to speak our protocol; otherwise decoding stops.
   */
  private gap(offset: number, length: number, frame: number, cut: boolean): void {
    this.state.gaps++;
    this.state.lostBytes += length;
    if (this.state.holes.length < MAX_HOLES) this.state.holes.push({ offset, length, frame, why: cut ? 'cut' : 'not-captured' });
    if (this.state.messages === 0) {
      this.fail(new AudioLabError('AUDIOLAB_ERR_CAPTURE_CORRUPT', `${length} bytes at stream offset ${offset} are missing from the capture before any message`), offset);
      return;
    }
    this.restart(offset + length);
  }

  /** Drops the frame in progress and looks for the next frame header from stream offset `at`. */
  private restart(at: number): void {
    this.decoder = this.newDecoder();
    this.hasStart = false;
    this.abortChunk();
    this.resync = { buf: Buffer.alloc(0), offset: at };
  }

  private frame(type: number, version: number, payload: Buffer): void {
    const size = HEADER_SIZE + payload.length;
    const start = this.frameStart;
    const t = this.startT;
    const frameNo = this.startFrame;
    this.advance(size);
    let msg: Message;
    try {
      msg = decodeFrame({ type, version, payload });
    } catch (err) {
      this.fail(err, start);
      return;
    }
    this.state.messages++;
    this.sink.message({ conn: this.connIndex, dir: this.dir, type: msg.type, t, tEnd: this.curT, frame: frameNo, frameEnd: this.curFrame, size, msg });
  }

  private fail(err: unknown, offset: number): void {
    if (this.state.gaps > 0 && this.state.messages > 0 && !this.resync) {
      // after a hole, a false start (bytes that looked like a header): look again further on
      this.restart(this.frameStart + 1);
      return;
    }
    if (this.state.error) return;
    const e = err instanceof AudioLabError ? err : new AudioLabError('AUDIOLAB_ERR_BAD_PAYLOAD', String(err));
    this.state.error = { code: e.code, message: e.message, offset };
    this.stopped = true;
    this.abortChunk();
  }
}

/** Decodes our protocol on every connection of a capture; plug `onPayload` into analyze(). */
export class AppDecoder {
  readonly connections: AppConnection[] = [];
  private readonly dirs = new Map<number, { c2s: DirectionDecoder; s2c: DirectionDecoder }>();

  private readonly sink: AppSink;

  constructor(sink: AppSink) {
    this.sink = sink;
  }

  /** End of the capture: bytes still waiting behind holes are decoded after them. */
  finish(t: number): void {
    for (const d of this.dirs.values()) {
      d.c2s.finish(t);
      d.s2c.finish(t);
    }
  }

  readonly onPayload = (conn: TcpConnection, fromClient: boolean, seq: number, data: Buffer, t: number, frame: number, seglen: number): void => {
    let d = this.dirs.get(conn.index);
    if (!d) {
      const c2s = new DirectionDecoder(conn.index, 'c2s', this.sink);
      const s2c = new DirectionDecoder(conn.index, 's2c', this.sink);
      // with the handshake seen, streams start right after the SYN (a lost first segment is a gap)
      if (conn.c2s.synOptions) c2s.start((conn.c2s.flow.baseSeq + 1) >>> 0);
      if (conn.s2c.synOptions) s2c.start((conn.s2c.flow.baseSeq + 1) >>> 0);
      this.connections.push({ conn, c2s: c2s.state, s2c: s2c.state });
      d = { c2s, s2c };
      this.dirs.set(conn.index, d);
    }
    (fromClient ? d.c2s : d.s2c).push(seq, data, t, frame, seglen);
  };

  /** The endpoint of connection `index` (its client), once a payload of it was seen. */
  endpoint(index: number): { ip: string; port: number } | undefined {
    return this.connections.find((a) => a.conn.index === index)?.conn.client;
  }
}
