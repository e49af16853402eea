/**
 * Pulls the PCM out of a WAV byte stream as it arrives: holds bytes until the header parses, then
 * passes on only the data chunk's bytes, in whole sample frames.
 */
import { AudioLabError } from '../protocol/errors.ts';
import { MAX_HEADER_BYTES, parseWavHeader, type WavInfo } from '../common/wav.ts';

export class WavStreamParser {
  info: WavInfo | null = null;
  private head: Buffer = Buffer.alloc(0);
  private pos = 0;
  private carry: Buffer = Buffer.alloc(0);
  private readonly fileSize: number | undefined;

  constructor(fileSize?: number) {
    this.fileSize = fileSize;
  }

  /** Returns the PCM bytes (whole frames) contained in `chunk`. */
  push(chunk: Buffer): Buffer {
    let start = this.pos;
    this.pos += chunk.length;
    if (this.info === null) {
      this.head = Buffer.concat([this.head, chunk]);
      this.info = parseWavHeader(this.head.subarray(0, MAX_HEADER_BYTES), this.fileSize);
      if (this.info === null) {
        if (this.head.length >= MAX_HEADER_BYTES) throw new AudioLabError('AUDIOLAB_ERR_BAD_FORMAT', 'No WAV header in the first 64 KiB');
        return Buffer.alloc(0);
      }
      chunk = this.head;
      start = 0;
      this.head = Buffer.alloc(0);
    }
    const { dataOffset, dataLength, blockAlign } = this.info;
    const from = Math.max(dataOffset - start, 0);
    const to = Math.min(dataOffset + dataLength - start, chunk.length);
    if (to <= from) return Buffer.alloc(0);
    let pcm = chunk.subarray(from, to);
    if (this.carry.length > 0) pcm = Buffer.concat([this.carry, pcm]);
    const whole = pcm.length - (pcm.length % blockAlign);
    this.carry = Buffer.from(pcm.subarray(whole));
    return pcm.subarray(0, whole);
  }
}
