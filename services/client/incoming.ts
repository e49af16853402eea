/**
 * A stream arriving at a client (a PLAY, a PLAY_ON or a relay): a Readable of the song's file bytes.
 * Its buffer is bounded: when the consumer falls behind, the client stops reading the socket, so TCP
 * flow control (and, through a relay, the server) slows the sender down.
 */
import { Readable } from 'node:stream';
import type { AudioFormat } from '../protocol/index.ts';
import { StreamCheck } from '../common/stream-check.ts';

export interface StreamHeader {
  streamId: number;
  kind: string;
  song: string;
  from?: string;
  size: number;
  offset: number;
  sha256: string;
  format: AudioFormat;
}

export class IncomingStream extends Readable {
  readonly header: StreamHeader;
  /** In order, within the size, and (from the first byte) the declared sha256. */
  readonly check: StreamCheck;
  /** Pushed to us (play-on, relay) rather than asked for: its sender waits for our RECEIVED. */
  pushed = false;
  /**
   * Set by a consumer that confirms a pushed stream itself (AudioLabClient.confirm), once its sink
   * has everything; otherwise RECEIVED goes as soon as the last byte is verified.
   */
  confirmsItself = false;
  /** Every byte arrived and was verified; RECEIVED waits for the consumer's confirm(). */
  verified = false;
  private readonly onFull: (full: boolean) => void;
  private full = false;

  constructor(header: StreamHeader, onFull: (full: boolean) => void, highWaterMark = 256 * 1024) {
    super({ highWaterMark });
    this.header = header;
    this.check = new StreamCheck(header, { song: header.song, streamId: header.streamId });
    this.onFull = onFull;
    // A stream nobody consumes must not crash the client when it fails: consumers that iterate or
    // pipe it still get the error.
    this.on('error', () => {});
  }

  /** Called by the client for each DATA frame, once `check` has accepted it. */
  deliver(data: Buffer): void {
    if (!this.push(data) && !this.full) {
      this.full = true;
      this.onFull(true);
    }
  }

  override _read(): void {
    if (this.full) {
      this.full = false;
      this.onFull(false);
    }
  }

  finish(): void {
    this.push(null);
    if (this.full) {
      this.full = false;
      this.onFull(false);
    }
  }

  fail(err: Error): void {
    if (this.full) {
      this.full = false;
      this.onFull(false);
    }
    this.destroy(err);
  }
}
