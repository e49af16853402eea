/**
 * Writes a large, realistic pcap for the analysis benchmark: many interleaved TCP connections
 * (handshake, data segments of 1448 bytes or `segmentBytes`, an ACK every two segments, some retransmissions, FINs), as
 * Ethernet/IPv4 frames with full payloads. Each connection's data is an audiolab stream (a
 * STREAM_START, then 16 KiB DATA frames), so the app-level analysis and the report do their full
 * work: reassembly, frame decoding, sha256 of every byte. Deterministic.
 */
import { openSync, writeSync, closeSync } from 'node:fs';
import { PCAP_LINKTYPE, pcapFileHeader, writePcapRecordHeader } from '../capture/pcap-writer.ts';
import { encodeDataHeader, encodeToBuffer } from '../services/protocol/index.ts';

/** An endless audiolab stream: STREAM_START, then DATA frames of 16 KiB. */
class AudiolabStream {
  private buf: Buffer;
  private readonly streamId: number;
  private seq = 0;
  private offset = 0;
  private static readonly audio = Buffer.alloc(16384, 0x61);

  constructor(streamId: number) {
    this.streamId = streamId;
    this.buf = encodeToBuffer({
      type: 'STREAM_START', streamId, kind: 'play', song: `bench-${streamId}.wav`, size: 1e9, offset: 0, sha256: '0'.repeat(64),
      format: { sampleRate: 44100, channels: 2, bitsPerSample: 16, encoding: 'pcm' },
    });
  }

  take(n: number): Buffer {
    while (this.buf.length < n) {
      const h = encodeDataHeader(this.streamId, this.seq++, this.offset, AudiolabStream.audio.length);
      this.offset += AudiolabStream.audio.length;
      this.buf = Buffer.concat([this.buf, h, AudiolabStream.audio]);
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

export function writeSyntheticCapture(path: string, targetPackets: number, connections = 200, segmentBytes = 1448): number {
  const fd = openSync(path, 'w');
  const out = Buffer.allocUnsafe(8 * 1024 * 1024);
  let used = 0;
  const flush = (): void => { writeSync(fd, out, 0, used); used = 0; };
  used = pcapFileHeader(PCAP_LINKTYPE.ETHERNET!).copy(out, 0);
  let packets = 0;
  let t = 1_700_000_000 * 1e6; // µs
  const frame = (c: number, fromClient: boolean, seq: number, ack: number, flags: number, len: number, win: number, payload?: Buffer): void => {
    const total = 14 + 20 + 32 + len;
    if (used + 16 + total > out.length) flush();
    t += 7;
    const f = writePcapRecordHeader(out, used, Math.floor(t / 1e6), t % 1e6, total, total);
    out.fill(0, f, f + 66);
    out.writeUInt16BE(0x0800, f + 12);
    out[f + 14] = 0x45; out.writeUInt16BE(20 + 32 + len, f + 16); out[f + 22] = 64; out[f + 23] = 6;
    const cip = 0xc6120000 | (c & 0xff) + 1 | ((c >> 8) << 8);
    const sip = 0xc612ff0a;
    out.writeUInt32BE(fromClient ? cip >>> 0 : sip, f + 26); out.writeUInt32BE(fromClient ? sip : cip >>> 0, f + 30);
    const cport = 40000 + c;
    out.writeUInt16BE(fromClient ? cport : 5050, f + 34); out.writeUInt16BE(fromClient ? 5050 : cport, f + 36);
    out.writeUInt32BE(seq >>> 0, f + 38); out.writeUInt32BE(ack >>> 0, f + 42);
    out[f + 46] = 8 << 4; out[f + 47] = flags; out.writeUInt16BE(win, f + 48);
    // options: NOP NOP TS
    out[f + 54] = 1; out[f + 55] = 1; out[f + 56] = 8; out[f + 57] = 10; out.writeUInt32BE(packets, f + 58); out.writeUInt32BE(packets, f + 62);
    if (len > 0) payload!.copy(out, f + 66, 0, len);
    used += 16 + total;
    packets++;
  };
  const perConn = Math.floor(targetPackets / connections);
  const state = Array.from({ length: connections }, (_, c) => ({ c, cseq: (c * 7919 * 65537) >>> 0, sseq: (c * 104729 * 31) >>> 0, sent: 0, phase: 0, n: 0, stream: new AudiolabStream(c + 1), last: Buffer.alloc(0) }));
  let live = connections;
  while (live > 0) {
    for (const s of state) {
      if (s.phase === 3) continue;
      const { c } = s;
      if (s.phase === 0) {
        frame(c, true, s.cseq, 0, 0x02, 0, 64240);
        frame(c, false, s.sseq, s.cseq + 1, 0x12, 0, 65160);
        frame(c, true, s.cseq + 1, s.sseq + 1, 0x10, 0, 502);
        s.phase = 1; s.n += 3;
        continue;
      }
      if (s.phase === 1) {
        for (let k = 0; k < 2; k++) {
          s.last = Buffer.from(s.stream.take(segmentBytes));
          frame(c, true, s.cseq + 1 + s.sent, s.sseq + 1, 0x18, segmentBytes, 502, s.last);
          s.sent += segmentBytes;
        }
        if (s.n % 997 === 0) frame(c, true, s.cseq + 1 + s.sent - segmentBytes, s.sseq + 1, 0x18, segmentBytes, 502, s.last); // a retransmission
        frame(c, false, s.sseq + 1, s.cseq + 1 + s.sent, 0x10, 0, 1000);
        s.n += 3;
        if (s.n >= perConn - 4) s.phase = 2;
        continue;
      }
      frame(c, true, s.cseq + 1 + s.sent, s.sseq + 1, 0x11, 0, 502);
      frame(c, false, s.sseq + 1, s.cseq + 2 + s.sent, 0x11, 0, 1000);
      frame(c, true, s.cseq + 2 + s.sent, s.sseq + 2, 0x10, 0, 502);
      s.phase = 3;
      live--;
    }
  }
  flush();
  closeSync(fd);
  return packets;
}
