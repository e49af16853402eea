/**
 * A thin I/O layer over one TCP socket: frames in (through the FrameDecoder) and messages out.
 * Frame building is pure (protocol/codec.ts); this layer only corks, writes and reports.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { AudioLabError, type ErrorCode } from '../protocol/errors.ts';
import { decodeFrame, encodeDataHeader, encodeMessage, FrameDecoder, type Message } from '../protocol/index.ts';

export interface ConnectionEvents {
  message: [Message];
  /** The peer broke the protocol. `fatal`: framing is lost and the connection will close. */
  protocolError: [AudioLabError, boolean];
  /** The peer does not read: more than `maxQueuedBytes` wait to be sent. The connection is destroyed. */
  overflow: [AudioLabError];
  close: [];
}

/** Output a peer may leave unread before the connection is dropped (see ConnectionOptions). */
export const DEFAULT_MAX_QUEUED_BYTES = 8 * 1024 * 1024;

export interface ConnectionOptions {
  maxPayload?: number;
  /**
   * The budget of bytes queued for a peer that does not read (beyond what the kernel's socket
   * buffers hold). Senders that wait for drain() stay far below it; past it the peer is dropped,
   * as Icecast drops a listener whose queue outgrows queue-size.
   */
  maxQueuedBytes?: number;
}

const FATAL: ReadonlySet<ErrorCode> = new Set([
  'AUDIOLAB_ERR_BAD_MAGIC', 'AUDIOLAB_ERR_UNSUPPORTED_VERSION', 'AUDIOLAB_ERR_FRAME_TOO_LARGE',
]);

export class Connection extends EventEmitter<ConnectionEvents> {
  readonly socket: Socket;
  readonly peer: string;
  private readonly decoder: FrameDecoder;
  private closed = false;
  private readonly maxQueuedBytes: number;
  bytesIn = 0;
  bytesOut = 0;

  constructor(socket: Socket, options: ConnectionOptions = {}) {
    super();
    this.socket = socket;
    this.maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    this.decoder = new FrameDecoder(
      (frame) => {
        let msg: Message;
        try {
          msg = decodeFrame(frame);
        } catch (err) {
          const e = err instanceof AudioLabError ? err : new AudioLabError('AUDIOLAB_ERR_BAD_PAYLOAD', String(err));
          this.emit('protocolError', e, false);
          return;
        }
        this.emit('message', msg);
      },
      (err) => {
        this.emit('protocolError', err, FATAL.has(err.code));
      },
      options.maxPayload === undefined ? {} : { maxPayload: options.maxPayload },
    );
    socket.on('data', (chunk: Buffer) => {
      this.bytesIn += chunk.length;
      this.decoder.push(chunk);
    });
    socket.on('error', () => {
      /* 'close' follows; the owner learns of it there */
    });
    socket.on('close', () => {
      this.closed = true;
      this.emit('close');
    });
  }

  /** Bytes received but not yet decoded (part of a frame). */
  get pendingBytes(): number {
    return this.decoder.pendingBytes;
  }

  get isClosed(): boolean {
    return this.closed || this.socket.destroyed;
  }

  /** Writes one message. Returns false when the socket's buffer is full (wait for drain()). */
  send(msg: Message): boolean {
    if (this.isClosed) return false;
    const bufs = encodeMessage(msg);
    return this.writeAll(bufs);
  }

  /** Writes a message encoded once (encodeMessage) for many recipients: a broadcast. */
  sendEncoded(bufs: Buffer[]): boolean {
    if (this.isClosed) return false;
    return this.writeAll(bufs);
  }

  /** Writes a DATA frame without copying the audio bytes. */
  sendData(streamId: number, seq: number, offset: number, data: Buffer): boolean {
    if (this.isClosed) return false;
    return this.writeAll([encodeDataHeader(streamId, seq, offset, data.length), data]);
  }

  /**
   * Writes prepared frames (a batch of DATA headers and audio views) in one writev. Returns true when
   * the kernel took them all, false when some wait in the process: wait for the socket's 'drain'.
   */
  sendBatch(bufs: readonly Buffer[]): boolean {
    if (this.isClosed) return false;
    this.writeAll(bufs);
    return this.socket.writableLength === 0;
  }

  private writeAll(bufs: readonly Buffer[]): boolean {
    let ok = true;
    this.socket.cork();
    for (const b of bufs) {
      this.bytesOut += b.length;
      ok = this.socket.write(b);
    }
    this.socket.uncork();
    if (!ok && this.socket.writableLength > this.maxQueuedBytes) this.overflow();
    return ok;
  }

  private overflow(): void {
    const queued = this.socket.writableLength;
    this.decoder.stop();
    this.socket.destroy();
    this.emit('overflow', new AudioLabError('AUDIOLAB_ERR_OUTPUT_BUDGET', `${queued} bytes wait unread for ${this.peer} (budget ${this.maxQueuedBytes})`, { peer: this.peer }));
  }

  sendError(code: ErrorCode, message: string, extra: { req?: number; streamId?: number; fatal?: boolean } = {}): void {
    this.send({ type: 'ERROR', code, message, ...extra });
  }

  /** Resolves when the socket's write buffer has drained, or it closed. */
  async drain(): Promise<void> {
    if (this.isClosed || !this.socket.writableNeedDrain) return;
    // Listeners are removed on whichever event comes first, so waiting often does not pile them up.
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** Resolves true once the write buffer drained (or the socket closed), false if it did not within `ms`. */
  async drainWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
    try {
      return await Promise.race([this.drain().then(() => true as const), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Sends a fatal ERROR (if still possible) and ends the connection. */
  fail(err: AudioLabError, req?: number): void {
    if (!this.isClosed) {
      this.sendError(err.code, err.message, { fatal: true, ...(req === undefined ? {} : { req }) });
      this.decoder.stop();
      this.socket.end();
      this.socket.setTimeout(2000, () => this.socket.destroy());
    }
  }

  /** Ends the connection after an orderly BYE. */
  bye(reason: string): void {
    if (!this.isClosed) {
      this.send({ type: 'BYE', reason });
      this.socket.end();
      this.socket.setTimeout(2000, () => this.socket.destroy());
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}
