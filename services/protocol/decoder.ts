/**
 * The frame decoder: an explicit state machine over a byte stream (after websockets/ws lib/receiver.js).
 *
 * - Each state returns early when too few bytes are buffered; a header is parsed only when all
 *   8 bytes are here.
 * - Payloads are views (subarray) of the incoming chunk when they lie in one chunk; bytes are copied
 *   only when a frame spans chunks.
 * - Any violation is reported once, with a coded error, to onError; the decoder then stops (the
 *   connection is beyond repair: framing is lost).
 */
import { AudioLabError } from './errors.ts';
import { HEADER_SIZE, MAGIC_0, MAGIC_1, MAX_CONTROL_PAYLOAD, MAX_PAYLOAD, SUPPORTED_VERSIONS } from './constants.ts';
import { MESSAGES, messageNameOf } from './schema.ts';
import type { Frame } from './codec.ts';

/**
 * Frames of one type delivered as they arrive instead of assembled: the first `headerBytes` of the
 * payload together, then the rest in pieces (views of the pushed chunks, valid only during the call).
 * For readers that only look at DATA's header and pass the audio on (the capture analysis hashes it).
 */
export interface StreamedFrames {
  type: number;
  headerBytes: number;
  onStart(version: number, type: number, length: number, header: Buffer): void;
  onBytes(bytes: Buffer): void;
  onEnd(): void;
}

export interface FrameDecoderOptions {
  maxPayload?: number;
  versions?: readonly number[];
  streamed?: StreamedFrames;
  /**
   * Copy what stays buffered between pushes (a partial header or frame). Needed when the caller
   * reuses the buffers it pushes (a capture reader); off by default (socket chunks are not reused).
   */
  copyRetained?: boolean;
}

const GET_HEADER = 0;
const GET_PAYLOAD = 1;
const FAILED = 2;
const GET_STREAM_HEADER = 3;
const STREAMING = 4;

const EMPTY = Buffer.alloc(0);

export class FrameDecoder {
  private readonly buffers: Buffer[] = [];
  private bufferedBytes = 0;
  private state = GET_HEADER;
  private version = 0;
  private type = 0;
  private length = 0;
  private readonly maxPayload: number;
  private readonly versions: readonly number[];
  private readonly onFrame: (frame: Frame) => void;
  private readonly onError: (err: AudioLabError) => void;
  private readonly streamed: StreamedFrames | undefined;
  private readonly copyRetained: boolean;
  /** Bytes of the streamed frame still to deliver. */
  private remaining = 0;
  /** Total bytes consumed so far: the stream offset of the next frame, for error context. */
  private offset = 0;

  constructor(onFrame: (frame: Frame) => void, onError: (err: AudioLabError) => void, options: FrameDecoderOptions = {}) {
    this.onFrame = onFrame;
    this.onError = onError;
    this.maxPayload = options.maxPayload ?? MAX_PAYLOAD;
    this.versions = options.versions ?? SUPPORTED_VERSIONS;
    this.streamed = options.streamed;
    this.copyRetained = options.copyRetained ?? false;
  }

  get failed(): boolean {
    return this.state === FAILED;
  }

  /** Bytes held waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.bufferedBytes;
  }

  push(chunk: Buffer): void {
    if (this.state === FAILED || chunk.length === 0) return;
    this.buffers.push(chunk);
    this.bufferedBytes += chunk.length;
    for (;;) {
      let more: boolean;
      if (this.state === GET_HEADER) more = this.getHeader();
      else if (this.state === GET_PAYLOAD) more = this.getPayload();
      else if (this.state === GET_STREAM_HEADER) more = this.getStreamHeader();
      else if (this.state === STREAMING) more = this.stream();
      else more = false;
      if (!more) break;
    }
    if (this.copyRetained && this.bufferedBytes > 0) {
      // what is left of this chunk is the last buffer: keep a copy, not a view
      const i = this.buffers.length - 1;
      if (this.buffers[i]!.buffer === chunk.buffer) this.buffers[i] = Buffer.from(this.buffers[i]!);
    }
  }

  private getStreamHeader(): boolean {
    const s = this.streamed!;
    if (this.bufferedBytes < s.headerBytes) return false;
    const h = this.consume(s.headerBytes);
    this.remaining = this.length - s.headerBytes;
    this.state = STREAMING;
    s.onStart(this.version, this.type, this.length, h);
    return this.state !== FAILED;
  }

  private stream(): boolean {
    const s = this.streamed!;
    while (this.remaining > 0 && this.bufferedBytes > 0) {
      const first = this.buffers[0]!;
      const n = Math.min(first.length, this.remaining);
      const piece = n === first.length ? this.buffers.shift()! : first.subarray(0, n);
      if (n < first.length) this.buffers[0] = first.subarray(n);
      this.bufferedBytes -= n;
      this.offset += n;
      this.remaining -= n;
      s.onBytes(piece);
      if (this.state === FAILED) return false;
    }
    if (this.remaining > 0) return false;
    this.state = GET_HEADER;
    s.onEnd();
    return this.state !== FAILED;
  }

  private getHeader(): boolean {
    if (this.bufferedBytes < HEADER_SIZE) return false;
    const h = this.consume(HEADER_SIZE);
    if (h[0] !== MAGIC_0 || h[1] !== MAGIC_1) {
      return this.fail('AUDIOLAB_ERR_BAD_MAGIC', `Bad magic 0x${h.subarray(0, 2).toString('hex')} at stream offset ${this.offset - HEADER_SIZE}`);
    }
    this.version = h[2]!;
    this.type = h[3]!;
    this.length = h.readUInt32BE(4);
    if (!this.versions.includes(this.version)) {
      return this.fail('AUDIOLAB_ERR_UNSUPPORTED_VERSION', `Frame version ${this.version} not supported (supported: ${this.versions.join(', ')})`);
    }
    if (this.length > this.maxPayload) {
      return this.fail('AUDIOLAB_ERR_FRAME_TOO_LARGE', `Frame payload of ${this.length} bytes exceeds the maximum of ${this.maxPayload}`);
    }
    // a control (JSON) message is refused from its header: nobody waits for 64 KiB of it to arrive
    const name = messageNameOf(this.type);
    if (name !== undefined && MESSAGES[name].body === 'json' && this.length > MAX_CONTROL_PAYLOAD) {
      return this.fail('AUDIOLAB_ERR_FRAME_TOO_LARGE', `${name} payload of ${this.length} bytes exceeds the control maximum of ${MAX_CONTROL_PAYLOAD}`);
    }
    if (this.streamed && this.type === this.streamed.type && this.length >= this.streamed.headerBytes) {
      this.state = GET_STREAM_HEADER;
      return true;
    }
    this.state = GET_PAYLOAD;
    return true;
  }

  private getPayload(): boolean {
    if (this.bufferedBytes < this.length) return false;
    const payload = this.consume(this.length);
    this.state = GET_HEADER;
    this.onFrame({ version: this.version, type: this.type, payload });
    return this.state !== FAILED;
  }

  /**
   * Takes n bytes off the front: a view when they lie in the first chunk, a copy otherwise. A frame
   * may be empty (length 0) and stand alone in its segment, so n = 0 with nothing buffered is valid.
   */
  private consume(n: number): Buffer {
    if (n === 0) return EMPTY;
    this.bufferedBytes -= n;
    this.offset += n;
    const first = this.buffers[0]!;
    if (n === first.length) return this.buffers.shift()!;
    if (n < first.length) {
      this.buffers[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const dst = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const buf = this.buffers[0]!;
      const take = Math.min(buf.length, n - filled);
      buf.copy(dst, filled, 0, take);
      filled += take;
      if (take === buf.length) this.buffers.shift();
      else this.buffers[0] = buf.subarray(take);
    }
    return dst;
  }

  /** Called by the owner when it rejects a frame's content: stops decoding. */
  stop(): void {
    this.state = FAILED;
    this.buffers.length = 0;
    this.bufferedBytes = 0;
  }

  private fail(code: AudioLabError['code'], message: string): false {
    this.stop();
    this.onError(new AudioLabError(code, message, { offset: this.offset }));
    return false;
  }
}
