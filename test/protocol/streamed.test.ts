/**
 * The frame decoder's streamed mode (DATA's audio delivered in pieces, never assembled) with
 * copyRetained (the caller reuses its buffers, as the capture reader does): at every chunk size,
 * every audio byte arrives once, in order, and control frames around it still decode.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { FrameDecoder, decodeFrame, encodeDataHeader, encodeToBuffer, MESSAGES, DATA_HEADER_SIZE } from '../../services/protocol/index.ts';

describe('FrameDecoder, streamed DATA', () => {
  const parts: Buffer[] = [];
  const audio: Buffer[] = [];
  for (let i = 0; i < 12; i++) {
    const a = Buffer.alloc(5000 + i * 37);
    for (let j = 0; j < a.length; j++) a[j] = (i * 7 + j * 13) & 255;
    audio.push(a);
    parts.push(encodeDataHeader(9, i, i * 100_000, a.length), a);
    if (i % 3 === 0) parts.push(encodeToBuffer({ type: 'PING', t: i }));
  }
  const wire = Buffer.concat(parts);
  const want = createHash('sha256').update(Buffer.concat(audio)).digest('hex');

  for (const size of [1, 3, 8, 24, 1448, 4096, 70_000]) {
    it(`delivers every audio byte once with ${size}-byte chunks from a reused buffer`, () => {
      const h = createHash('sha256');
      const pings: number[] = [];
      const starts: Array<[number, number, number]> = [];
      let ends = 0;
      const d = new FrameDecoder((f) => { const m = decodeFrame(f); if (m.type === 'PING') pings.push(m.t); }, (e) => { throw e; }, {
        copyRetained: true,
        streamed: {
          type: MESSAGES.DATA.code, headerBytes: DATA_HEADER_SIZE,
          onStart: (_v, _t, length, hdr) => starts.push([hdr.readUInt32BE(0), hdr.readUInt32BE(4), length - DATA_HEADER_SIZE]),
          onBytes: (b) => { h.update(b); },
          onEnd: () => { ends++; },
        },
      });
      const scratch = Buffer.alloc(size);
      for (let o = 0; o < wire.length; o += size) {
        const n = Math.min(size, wire.length - o);
        wire.copy(scratch, 0, o, o + n);
        d.push(scratch.subarray(0, n));
        scratch.fill(0xee); // what the decoder kept must not change with it
      }
      expect(h.digest('hex')).toBe(want);
      expect(ends).toBe(12);
      expect(starts.map(([id, seq, len]) => [id, seq, len])).toEqual(audio.map((a, i) => [9, i, a.length]));
      expect(pings).toEqual([0, 3, 6, 9]);
      expect(d.pendingBytes).toBe(0);
    });
  }
});
