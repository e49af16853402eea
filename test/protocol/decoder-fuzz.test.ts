/**
 * The frame decoder under any input (property-based, fast-check, bounded): any byte stream, split
 * anywhere, gives frames or one coded error, never an exception; and valid frames come out the
 * same however the stream is split.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeHeader, encodeToBuffer, FrameDecoder, MESSAGES, type Frame } from '../../services/protocol/index.ts';
import { AudioLabError } from '../../services/protocol/errors.ts';

/** Feeds `bytes` in pieces cut at `cuts`; returns the frames and errors, throwing nothing itself. */
function feed(bytes: Uint8Array, cuts: number[]): { frames: Frame[]; errors: AudioLabError[] } {
  const frames: Frame[] = [];
  const errors: AudioLabError[] = [];
  const dec = new FrameDecoder((f) => frames.push({ ...f, payload: Buffer.from(f.payload) }), (e) => errors.push(e));
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const c of [...at, bytes.length]) {
    dec.push(Buffer.from(bytes.subarray(from, c)));
    from = c;
  }
  return { frames, errors };
}

const codes = Object.values(MESSAGES).map((m) => m.code);
/** Streams that look like ours: real headers (known and unknown types, any length) around random payloads. */
const framed = fc.array(fc.record({
  type: fc.oneof(fc.constantFrom(...codes), fc.integer({ min: 0, max: 255 })),
  payload: fc.uint8Array({ maxLength: 300 }),
  lie: fc.oneof(fc.constant(0), fc.integer({ min: -8, max: 70_000 })),
}), { maxLength: 12 }).map((fs) => Buffer.concat(fs.flatMap((f) => [encodeHeader(f.type, Math.max(0, f.payload.length + f.lie)), Buffer.from(f.payload)])));

describe('frame decoder, fuzzed', () => {
  it('never throws on any byte stream split anywhere: frames, then at most one coded error', () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 2000 }), framed), fc.array(fc.nat(), { maxLength: 20 }), (bytes, cuts) => {
      const { errors } = feed(bytes, cuts);
      expect(errors.length).toBeLessThanOrEqual(1);
      for (const e of errors) {
        expect(e).toBeInstanceOf(AudioLabError);
        expect(e.code).toMatch(/^AUDIOLAB_ERR_/);
      }
    }), { numRuns: 2000 });
  });

  it('gives the same frames however a valid stream is split', () => {
    const messages = fc.array(fc.oneof(
      fc.record({ t: fc.double({ noNaN: true, noDefaultInfinity: true }) }).map((m) => encodeToBuffer({ type: 'PING', ...m })),
      fc.record({ req: fc.nat(), song: fc.string({ maxLength: 40 }), offset: fc.nat() }).map((m) => encodeToBuffer({ type: 'PLAY', ...m })),
      fc.uint8Array({ maxLength: 500 }).map((d) => encodeToBuffer({ type: 'DATA', streamId: 1, seq: 0, offset: 0, data: Buffer.from(d) })),
      fc.constant(encodeHeader(0x04, 0)),
    ), { minLength: 1, maxLength: 10 }).map((bs) => Buffer.concat(bs));
    fc.assert(fc.property(messages, fc.array(fc.nat(), { maxLength: 30 }), (bytes, cuts) => {
      const whole = feed(bytes, []);
      const split = feed(bytes, cuts);
      expect(whole.errors).toEqual([]);
      expect(split.errors).toEqual([]);
      expect(split.frames).toEqual(whole.frames);
    }), { numRuns: 1000 });
  });
});
