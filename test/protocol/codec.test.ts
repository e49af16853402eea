import { describe, expect, it } from 'vitest';
import {
  decodeFrame, encodeHeader, encodeToBuffer, FrameDecoder, HEADER_SIZE, MAX_CONTROL_PAYLOAD, MAX_PAYLOAD, MESSAGES,
  type Frame, type Message, type MessageName,
} from '../../services/protocol/index.ts';
import { AudioLabError } from '../../services/protocol/errors.ts';

const format = { sampleRate: 44100, channels: 2, bitsPerSample: 16, encoding: 'pcm' };
const client = { id: 7, name: 'client-a', address: '198.18.0.11:40000', listening: false };
const song = { name: 'tone.wav', durationMs: 1000, sampleRate: 44100, channels: 2, bitsPerSample: 16, encoding: 'pcm', size: 176444, sha256: 'ab'.repeat(32) };

/** One example of every message in the protocol. */
const EXAMPLES: { [N in MessageName]: Extract<Message, { type: N }> } = {
  HELLO: { type: 'HELLO', versions: [1], name: 'client-a', software: 'test' },
  WELCOME: { type: 'WELCOME', version: 1, clientId: 7, name: 'client-a', motd: 'hi', clients: [client], online: 1, seq: 4 },
  PRESENCE: { type: 'PRESENCE', event: 'join', client, online: 2, seq: 5 },
  ONLINE: { type: 'ONLINE', online: 300, changes: 40, seq: 45 },
  WHO: { type: 'WHO', req: 3 },
  CLIENTS: { type: 'CLIENTS', req: 3, clients: [client], more: false, seq: 45 },
  PING: { type: 'PING', t: 12.5 },
  PONG: { type: 'PONG', t: 12.5 },
  BYE: { type: 'BYE', reason: 'quit' },
  LIST: { type: 'LIST', req: 1 },
  CATALOG: { type: 'CATALOG', req: 1, songs: [song] },
  RECEIVED: { type: 'RECEIVED', streamId: 3, bytes: 176444 },
  PLAYED: { type: 'PLAYED', song: 'tone.wav', sha256: 'ab'.repeat(32), source: 'cache' },
  PLAY: { type: 'PLAY', req: 2, song: 'tone.wav', offset: 0 },
  STREAM_START: { type: 'STREAM_START', req: 2, streamId: 3, kind: 'play', song: 'tone.wav', size: 176444, offset: 0, sha256: 'ab'.repeat(32), format },
  DATA: { type: 'DATA', streamId: 3, seq: 9, offset: 2 ** 40 + 5, data: Buffer.from([1, 2, 3, 4, 5]) },
  STREAM_END: { type: 'STREAM_END', streamId: 3, bytes: 176444, sha256: 'ab'.repeat(32) },
  STREAM_ABORT: { type: 'STREAM_ABORT', streamId: 3, code: 'AUDIOLAB_ERR_PEER_GONE', message: 'gone' },
  UPLOAD: { type: 'UPLOAD', req: 4, name: 'mine.wav', size: 1000, sha256: 'cd'.repeat(32) },
  UPLOAD_DONE: { type: 'UPLOAD_DONE', req: 4, name: 'mine.wav', sha256: 'cd'.repeat(32), song },
  LISTEN: { type: 'LISTEN', req: 5, accept: true },
  PLAY_ON: { type: 'PLAY_ON', req: 6, target: 'client-b', song: 'tone.wav' },
  SEND_TO: { type: 'SEND_TO', req: 7, target: 'client-b', name: 'mine.wav', size: 1000, sha256: 'cd'.repeat(32), format },
  INVITE: { type: 'INVITE', streamId: 8, kind: 'relay', from: 'client-a', song: 'mine.wav', size: 1000, sha256: 'cd'.repeat(32), format },
  ACCEPT: { type: 'ACCEPT', streamId: 8 },
  REFUSE: { type: 'REFUSE', streamId: 8, reason: 'busy' },
  READY: { type: 'READY', req: 7, streamId: 8 },
  OK: { type: 'OK', req: 5, status: 'listening' },
  ERROR: { type: 'ERROR', req: 6, code: 'AUDIOLAB_ERR_NO_SUCH_SONG', message: 'no', fatal: false },
};

function decodeAll(bytes: Buffer, splits: number[] = []): { messages: Message[]; errors: AudioLabError[] } {
  const messages: Message[] = [];
  const errors: AudioLabError[] = [];
  const dec = new FrameDecoder((f: Frame) => messages.push(decodeFrame(f)), (e) => errors.push(e));
  let prev = 0;
  for (const s of [...splits, bytes.length]) {
    dec.push(bytes.subarray(prev, s));
    prev = s;
  }
  return { messages, errors };
}

const normalise = (m: Message): unknown => (m.type === 'DATA' ? { ...m, data: Buffer.from(m.data).toString('hex') } : m);

describe('protocol codec', () => {
  it('has an example for every message in the schema', () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual(Object.keys(MESSAGES).sort());
  });

  for (const [name, msg] of Object.entries(EXAMPLES)) {
    it(`round-trips ${name}`, () => {
      const { messages, errors } = decodeAll(encodeToBuffer(msg));
      expect(errors).toEqual([]);
      expect(messages.map(normalise)).toEqual([normalise(msg)]);
    });
  }

  it('decodes every message split at every byte boundary', () => {
    const all = Object.values(EXAMPLES);
    const stream = Buffer.concat(all.map((m) => encodeToBuffer(m)));
    for (let cut = 1; cut < stream.length; cut++) {
      const { messages, errors } = decodeAll(stream, [cut]);
      expect(errors).toEqual([]);
      expect(messages.length).toBe(all.length);
    }
    // and one byte at a time
    const oneByOne = decodeAll(stream, Array.from({ length: stream.length - 1 }, (_, i) => i + 1));
    expect(oneByOne.messages.map(normalise)).toEqual(all.map(normalise));
  });

  it('decodes many frames in one chunk, handing out views of the chunk for payloads', () => {
    const data = Buffer.alloc(1000, 7);
    const frames = Array.from({ length: 50 }, (_, i) => encodeToBuffer({ type: 'DATA', streamId: 1, seq: i, offset: i * 1000, data }));
    const chunk = Buffer.concat(frames);
    const payloads: Buffer[] = [];
    const dec = new FrameDecoder((f) => payloads.push(f.payload), () => {});
    dec.push(chunk);
    expect(payloads.length).toBe(50);
    // zero-copy: payloads share the chunk's memory
    for (const p of payloads) expect(p.buffer).toBe(chunk.buffer);
  });

  it('hands out an empty frame alone in its chunk (length 0), and the frames after it', () => {
    const frames: Array<{ type: number; length: number }> = [];
    const dec = new FrameDecoder((f) => frames.push({ type: f.type, length: f.payload.length }), (e) => { throw e; });
    dec.push(encodeHeader(0x04, 0));
    dec.push(Buffer.concat([encodeHeader(0x10, 0), encodeToBuffer({ type: 'PING', t: 1 })]));
    expect(frames).toEqual([{ type: 0x04, length: 0 }, { type: 0x10, length: 0 }, { type: 0x04, length: 7 }]);
  });

  it('rejects garbage with AUDIOLAB_ERR_BAD_MAGIC and stops', () => {
    const { messages, errors } = decodeAll(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    expect(messages).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['AUDIOLAB_ERR_BAD_MAGIC']);
  });

  it('rejects an oversize frame from its header alone', () => {
    const dec = new FrameDecoder(() => { throw new Error('no frame expected'); }, (e) => errors.push(e));
    const errors: AudioLabError[] = [];
    dec.push(encodeHeader(MESSAGES.DATA.code, MAX_PAYLOAD + 1));
    expect(errors.map((e) => e.code)).toEqual(['AUDIOLAB_ERR_FRAME_TOO_LARGE']);
    expect(dec.failed).toBe(true);
  });

  it('rejects a control payload above the control limit', () => {
    const frame: Frame = { version: 1, type: MESSAGES.BYE.code, payload: Buffer.alloc(MAX_CONTROL_PAYLOAD + 1, 0x20) };
    expect(() => decodeFrame(frame)).toThrow(expect.objectContaining({ code: 'AUDIOLAB_ERR_FRAME_TOO_LARGE' }));
    expect(() => encodeToBuffer({ type: 'BYE', reason: 'x'.repeat(MAX_CONTROL_PAYLOAD) })).toThrow(AudioLabError);
  });

  it('rejects a wrong version', () => {
    const { errors } = decodeAll(encodeToBuffer(EXAMPLES.PING, 9));
    expect(errors.map((e) => e.code)).toEqual(['AUDIOLAB_ERR_UNSUPPORTED_VERSION']);
  });

  it('reports an unknown type as a coded error without losing framing', () => {
    const bytes = Buffer.concat([encodeHeader(0x99, 2), Buffer.from('{}'), encodeToBuffer(EXAMPLES.PING)]);
    const got: string[] = [];
    const dec = new FrameDecoder((f) => {
      try { got.push(decodeFrame(f).type); } catch (e) { got.push((e as AudioLabError).code); }
    }, (e) => got.push('fatal:' + e.code));
    dec.push(bytes);
    expect(got).toEqual(['AUDIOLAB_ERR_UNKNOWN_TYPE', 'PING']);
  });

  it('rejects bad JSON, missing and mistyped fields', () => {
    const frame = (type: number, body: string): Frame => ({ version: 1, type, payload: Buffer.from(body) });
    expect(() => decodeFrame(frame(MESSAGES.PLAY.code, '{not json'))).toThrow(expect.objectContaining({ code: 'AUDIOLAB_ERR_BAD_PAYLOAD' }));
    expect(() => decodeFrame(frame(MESSAGES.PLAY.code, '{"req":1,"offset":0}'))).toThrow(/PLAY.song: missing/);
    expect(() => decodeFrame(frame(MESSAGES.PLAY.code, '{"req":1,"song":"a","offset":-1}'))).toThrow(/PLAY.offset/);
    expect(() => decodeFrame(frame(MESSAGES.PLAY.code, '[1,2]'))).toThrow(/expected an object/);
    expect(() => decodeFrame(frame(MESSAGES.WELCOME.code, JSON.stringify({ ...EXAMPLES.WELCOME, clients: [{ id: 'x' }] })))).toThrow(/clients\[0\]\.id/);
    expect(() => decodeFrame(frame(MESSAGES.DATA.code, 'short'))).toThrow(expect.objectContaining({ code: 'AUDIOLAB_ERR_BAD_PAYLOAD' }));
  });

  it('keeps header size as documented', () => {
    expect(encodeToBuffer(EXAMPLES.LIST).length).toBe(HEADER_SIZE + JSON.stringify({ req: 1 }).length);
  });
});
