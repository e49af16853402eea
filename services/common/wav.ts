/**
 * A strict WAV (RIFF/WAVE) header parser for PCM audio.
 *
 * Why not the `wav` package here: its Reader is a stream that emits a 'format' event and silently
 * accepts what it does not understand; the server must *reject* anything but valid PCM (with a
 * reason), validate an upload from its first bytes while it is still arriving, and know the exact
 * byte offset and length of the sample data. We use `wav` where it is the right tool: writing the
 * recorder's WAV files (services/client/sinks/recorder.ts), and as an independent reader in tests.
 *
 * Accepted: WAVE_FORMAT_PCM (1), WAVE_FORMAT_IEEE_FLOAT (3, 32/64-bit) and WAVE_FORMAT_EXTENSIBLE
 * (0xFFFE) with a PCM or float sub-format; 8/16/24/32-bit integer PCM; 1 or 2 channels; 8–192 kHz.
 */
import { AudioLabError } from '../protocol/errors.ts';
import type { AudioFormat } from '../protocol/schema.ts';

export interface WavInfo {
  format: AudioFormat;
  blockAlign: number;
  /** Byte offset of the first sample in the file. */
  dataOffset: number;
  /** Bytes of sample data declared by the data chunk. */
  dataLength: number;
  durationMs: number;
}

export const WAVE_FORMAT_PCM = 0x0001;
export const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
export const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** The header must be complete within this many bytes. */
export const MAX_HEADER_BYTES = 64 * 1024;

function bad(why: string): never {
  throw new AudioLabError('AUDIOLAB_ERR_BAD_FORMAT', `Not a supported PCM WAV: ${why}`);
}

/**
 * Parses the header from the first bytes of a file.
 * Returns null when `buf` is too short to decide yet (call again with more bytes);
 * throws AUDIOLAB_ERR_BAD_FORMAT when the bytes can never be a supported WAV.
 * `fileSize`, when known, is checked against the data chunk.
 */
export function parseWavHeader(buf: Buffer, fileSize?: number): WavInfo | null {
  if (buf.length < 12) {
    if (buf.length >= 4 && buf.toString('latin1', 0, 4) !== 'RIFF') bad('no RIFF signature');
    return null;
  }
  if (buf.toString('latin1', 0, 4) !== 'RIFF') bad('no RIFF signature');
  if (buf.toString('latin1', 8, 12) !== 'WAVE') bad('RIFF type is not WAVE');
  let pos = 12;
  let fmt: { format: AudioFormat; blockAlign: number } | undefined;
  for (;;) {
    if (pos + 8 > buf.length) {
      if (pos + 8 > MAX_HEADER_BYTES) bad(`no data chunk in the first ${MAX_HEADER_BYTES} bytes`);
      return null;
    }
    const id = buf.toString('latin1', pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'data') {
      if (!fmt) bad('data chunk before fmt chunk');
      if (size === 0) bad('empty data chunk');
      if (size === 0xffffffff) bad('unbounded data chunk');
      if (size % fmt.blockAlign !== 0) bad(`data length ${size} is not a whole number of ${fmt.blockAlign}-byte frames`);
      if (fileSize !== undefined && body + size > fileSize) bad(`data chunk declares ${size} bytes but the file ends after ${fileSize - body}`);
      const frames = size / fmt.blockAlign;
      return { ...fmt, dataOffset: body, dataLength: size, durationMs: (frames * 1000) / fmt.format.sampleRate };
    }
    if (id === 'fmt ') {
      if (body + size > buf.length) {
        if (body + size > MAX_HEADER_BYTES) bad('fmt chunk too large');
        return null;
      }
      fmt = parseFmt(buf.subarray(body, body + size));
    }
    pos = body + size + (size & 1); // chunks are padded to even sizes
    if (pos > MAX_HEADER_BYTES) bad(`no data chunk in the first ${MAX_HEADER_BYTES} bytes`);
  }
}

const GUID_TAIL = '000000001000800000aa00389b71';

function parseFmt(f: Buffer): { format: AudioFormat; blockAlign: number } {
  if (f.length < 16) bad('fmt chunk shorter than 16 bytes');
  let tag = f.readUInt16LE(0);
  const channels = f.readUInt16LE(2);
  const sampleRate = f.readUInt32LE(4);
  const byteRate = f.readUInt32LE(8);
  const blockAlign = f.readUInt16LE(12);
  const bitsPerSample = f.readUInt16LE(14);
  if (tag === WAVE_FORMAT_EXTENSIBLE) {
    if (f.length < 40) bad('WAVE_FORMAT_EXTENSIBLE fmt chunk shorter than 40 bytes');
    const guid = f.subarray(24, 40).toString('hex');
    if (guid.slice(4) !== GUID_TAIL) bad('unknown WAVE_FORMAT_EXTENSIBLE sub-format');
    tag = f.readUInt16LE(24);
  }
  let encoding: 'pcm' | 'float';
  if (tag === WAVE_FORMAT_PCM) {
    encoding = 'pcm';
    if (![8, 16, 24, 32].includes(bitsPerSample)) bad(`${bitsPerSample}-bit PCM`);
  } else if (tag === WAVE_FORMAT_IEEE_FLOAT) {
    encoding = 'float';
    if (![32, 64].includes(bitsPerSample)) bad(`${bitsPerSample}-bit float`);
  } else {
    return bad(`compressed or unknown format tag 0x${tag.toString(16)}`);
  }
  if (channels < 1 || channels > 2) bad(`${channels} channels (mono or stereo only)`);
  if (sampleRate < 8000 || sampleRate > 192000) bad(`sample rate ${sampleRate} Hz (8–192 kHz only)`);
  if (blockAlign !== channels * (bitsPerSample / 8)) bad(`block align ${blockAlign} does not match ${channels}×${bitsPerSample}-bit`);
  if (byteRate !== sampleRate * blockAlign) bad(`byte rate ${byteRate} does not match ${sampleRate} Hz × ${blockAlign}`);
  return { format: { sampleRate, channels, bitsPerSample, encoding }, blockAlign };
}

/** Builds a canonical 44-byte PCM header (or the 68-byte EXTENSIBLE one). */
export function buildWavHeader(format: AudioFormat, dataLength: number, extensible = false): Buffer {
  const blockAlign = format.channels * (format.bitsPerSample / 8);
  const tag = format.encoding === 'float' ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM;
  const fmtSize = extensible ? 40 : 16;
  const h = Buffer.alloc(12 + 8 + fmtSize + 8);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(h.length - 8 + dataLength + (dataLength & 1), 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(fmtSize, 16);
  h.writeUInt16LE(extensible ? WAVE_FORMAT_EXTENSIBLE : tag, 20);
  h.writeUInt16LE(format.channels, 22);
  h.writeUInt32LE(format.sampleRate, 24);
  h.writeUInt32LE(format.sampleRate * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(format.bitsPerSample, 34);
  if (extensible) {
    h.writeUInt16LE(22, 36); // cbSize
    h.writeUInt16LE(format.bitsPerSample, 38); // valid bits
    h.writeUInt32LE(format.channels === 2 ? 0x3 : 0x4, 40); // channel mask
    h.writeUInt16LE(tag, 44);
    Buffer.from(GUID_TAIL, 'hex').copy(h, 46);
  }
  const d = 12 + 8 + fmtSize;
  h.write('data', d, 'latin1');
  h.writeUInt32LE(dataLength, d + 4);
  return h;
}

/**
 * The one WAV header accumulator for a file arriving in chunks (an upload, a stream being played):
 * holds the first bytes until the header parses, and fails with AUDIOLAB_ERR_BAD_FORMAT once
 * MAX_HEADER_BYTES, or the whole file, have come without a header that parses.
 */
export class WavHeaderAccumulator {
  private held: Buffer = Buffer.alloc(0);
  private readonly fileSize: number | undefined;

  constructor(fileSize?: number) {
    this.fileSize = fileSize;
  }

  /**
   * Takes the file's next chunk. Once the header parses, returns it with every byte held so far
   * (this chunk included, from the file's first byte) so the caller can read past it; null until then.
   */
  push(chunk: Buffer): { info: WavInfo; head: Buffer } | null {
    this.held = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    const info = parseWavHeader(this.held.subarray(0, MAX_HEADER_BYTES), this.fileSize);
    if (info !== null) {
      const head = this.held;
      this.held = Buffer.alloc(0);
      return { info, head };
    }
    if (this.held.length >= MAX_HEADER_BYTES || (this.fileSize !== undefined && this.held.length >= this.fileSize)) {
      throw new AudioLabError('AUDIOLAB_ERR_BAD_FORMAT', this.held.length >= MAX_HEADER_BYTES ? 'No WAV header in the first 64 KiB' : 'Not a supported PCM WAV: no complete header');
    }
    return null;
  }
}

/** Bytes of PCM per second of audio in this format. */
export const byteRateOf = (f: AudioFormat): number => f.sampleRate * f.channels * (f.bitsPerSample / 8);
