/**
 * Pulls the PCM out of a WAV byte stream as it arrives: holds bytes until the header parses, then
 * passes on only the data chunk's bytes, in whole sample frames.
 */
import { WavHeaderAccumulator, type WavInfo } from '../common/wav.ts';

export class WavStreamParser {
  info: WavInfo | null = null;
  private readonly header: WavHeaderAccumulator;
  private pos = 0;
  private carry: Buffer = Buffer.alloc(0);

  constructor(fileSize?: number) {
    this.header = new WavHeaderAccumulator(fileSize);
  }

  /** Returns the PCM bytes (whole frames) contained in `chunk`. */
  push(chunk: Buffer): Buffer {
    let start = this.pos;
    this.pos += chunk.length;
    if (this.info === null) {
      const parsed = this.header.push(chunk);
      if (parsed === null) return Buffer.alloc(0);
      this.info = parsed.info;
      chunk = parsed.head;
      start = 0;
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
