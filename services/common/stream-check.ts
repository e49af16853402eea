/**
 * The one check of an incoming stream (an upload into the server, a relay through it, a download
 * or a received stream at a client): chunks arrive in order, never past the declared size, and at
 * the end the byte count and, for a stream read from its first byte, the sha256 match what the
 * sender declared. Every breach is a coded error; the caller decides whom it tells.
 */
import { createHash, type Hash } from 'node:crypto';
import { AudioLabError, type ErrorContext } from '../protocol/errors.ts';

export interface StreamDeclaration {
  /** The whole file's size. */
  size: number;
  /** The whole file's sha256 (hex). */
  sha256: string;
  /** File offset of the first byte (a resumed download starts past 0; its hash is checked on disk). */
  offset?: number;
}

export class StreamCheck {
  readonly size: number;
  readonly sha256: string;
  /** File offset of the next expected byte. */
  position: number;
  private readonly start: number;
  private readonly hash: Hash | null;
  private readonly context: ErrorContext;

  constructor(declared: StreamDeclaration, context: ErrorContext = {}) {
    this.size = declared.size;
    this.sha256 = declared.sha256;
    this.position = this.start = declared.offset ?? 0;
    this.hash = this.position === 0 ? createHash('sha256') : null;
    this.context = context;
  }

  /** Takes the next chunk; throws AUDIOLAB_ERR_BAD_OFFSET (out of order) or AUDIOLAB_ERR_SIZE_MISMATCH (too many bytes). */
  accept(offset: number, data: Buffer): void {
    if (offset !== this.position) {
      throw new AudioLabError('AUDIOLAB_ERR_BAD_OFFSET', `Chunk at offset ${offset}, expected ${this.position}`, { ...this.context, offset });
    }
    if (this.position + data.length > this.size) {
      throw new AudioLabError('AUDIOLAB_ERR_SIZE_MISMATCH', `More than the declared ${this.size} bytes`, this.context);
    }
    this.position += data.length;
    this.hash?.update(data);
  }

  /**
   * Checks the end: every byte came, as many as the sender says this stream carried (`bytesSent`,
   * when it says), and the sha256 matches. Returns the digest (null for a resumed stream).
   */
  finish(bytesSent?: number, what = 'Received'): string | null {
    if (this.position !== this.size || (bytesSent !== undefined && bytesSent !== this.position - this.start)) {
      throw new AudioLabError('AUDIOLAB_ERR_SIZE_MISMATCH', `${what} ${this.position} of ${this.size} bytes`, this.context);
    }
    if (!this.hash) return null;
    const digest = this.hash.digest('hex');
    if (digest !== this.sha256) {
      throw new AudioLabError('AUDIOLAB_ERR_HASH_MISMATCH', `sha256 ${digest} differs from the declared ${this.sha256}`, this.context);
    }
    return digest;
  }
}
