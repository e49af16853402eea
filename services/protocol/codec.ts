/**
 * Pure functions between messages and frames. No I/O here: the connection layer writes the buffers.
 */
import { AudioLabError } from './errors.ts';
import {
  CURRENT_VERSION, DATA_HEADER_SIZE, HEADER_SIZE, MAGIC_0, MAGIC_1, MAX_CONTROL_PAYLOAD, MAX_PAYLOAD, SUPPORTED_VERSIONS,
} from './constants.ts';
import { MESSAGES, messageNameOf, type Message } from './schema.ts';
import { checkObject } from './validate.ts';

/** A frame as it came off the wire: header fields and a view of the payload. */
export interface Frame {
  version: number;
  type: number;
  payload: Buffer;
}

export function encodeHeader(type: number, length: number, version = CURRENT_VERSION): Buffer {
  const h = Buffer.allocUnsafe(HEADER_SIZE);
  h[0] = MAGIC_0;
  h[1] = MAGIC_1;
  h[2] = version;
  h[3] = type;
  h.writeUInt32BE(length, 4);
  return h;
}

/** Header of a DATA frame (frame header + the 16-byte DATA header); the audio bytes follow unchanged. */
export function encodeDataHeader(streamId: number, seq: number, offset: number, byteLength: number, version = CURRENT_VERSION): Buffer {
  const h = Buffer.allocUnsafe(HEADER_SIZE + DATA_HEADER_SIZE);
  writeDataHeader(h, 0, streamId, seq, offset, byteLength, version);
  return h;
}

/** Writes a DATA frame's header (HEADER_SIZE + DATA_HEADER_SIZE bytes) into `target` at `at`: one slab can hold a block's headers. */
export function writeDataHeader(target: Buffer, at: number, streamId: number, seq: number, offset: number, byteLength: number, version = CURRENT_VERSION): void {
  const length = DATA_HEADER_SIZE + byteLength;
  if (length > MAX_PAYLOAD) throw new AudioLabError('AUDIOLAB_ERR_FRAME_TOO_LARGE', `DATA chunk of ${byteLength} bytes is too large`);
  target[at] = MAGIC_0;
  target[at + 1] = MAGIC_1;
  target[at + 2] = version;
  target[at + 3] = MESSAGES.DATA.code;
  target.writeUInt32BE(length, at + 4);
  target.writeUInt32BE(streamId, at + 8);
  target.writeUInt32BE(seq, at + 12);
  target.writeUInt32BE(Math.floor(offset / 0x1_0000_0000), at + 16);
  target.writeUInt32BE(offset >>> 0, at + 20);
}

type JsonMessage = Exclude<Message, { type: 'DATA' }>;

/** Encodes one message into the buffers to write (DATA: header and the bytes, not copied). */
export function encodeMessage(msg: Message, version = CURRENT_VERSION): Buffer[] {
  if (msg.type === 'DATA') {
    return [encodeDataHeader(msg.streamId, msg.seq, msg.offset, msg.data.length, version), msg.data];
  }
  const spec = MESSAGES[msg.type];
  const { type: _type, ...body } = msg as JsonMessage;
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  if (json.length > MAX_CONTROL_PAYLOAD) {
    throw new AudioLabError('AUDIOLAB_ERR_FRAME_TOO_LARGE', `${msg.type} payload of ${json.length} bytes exceeds ${MAX_CONTROL_PAYLOAD}`);
  }
  return [encodeHeader(spec.code, json.length, version), json];
}

/** Convenience for tests and small messages: one contiguous buffer. */
export function encodeToBuffer(msg: Message, version = CURRENT_VERSION): Buffer {
  return Buffer.concat(encodeMessage(msg, version));
}

/** The 16-byte DATA header at the start of `h`: streamId u32, seq u32, offset u64. Throws for offsets beyond 2^53. */
export function readDataHeader(h: Buffer): { streamId: number; seq: number; offset: number } {
  const hi = h.readUInt32BE(8);
  if (hi >= 0x200000) throw new AudioLabError('AUDIOLAB_ERR_BAD_PAYLOAD', 'DATA offset beyond 2^53');
  return { streamId: h.readUInt32BE(0), seq: h.readUInt32BE(4), offset: hi * 0x1_0000_0000 + h.readUInt32BE(12) };
}

/**
 * The first position in `b` where a plausible frame header starts: magic, a version we speak, a known
 * type, a length within the limits (and '{' opening a JSON payload). -1 if none. For readers that
 * lost their place in a stream (a capture with a hole) and must find the next frame.
 */
export function findFrameHeader(b: Buffer, versions: readonly number[] = SUPPORTED_VERSIONS): number {
  for (let i = b.indexOf(MAGIC_0); i >= 0 && i + HEADER_SIZE <= b.length; i = b.indexOf(MAGIC_0, i + 1)) {
    if (b[i + 1] !== MAGIC_1 || !versions.includes(b[i + 2]!)) continue;
    const name = messageNameOf(b[i + 3]!);
    if (!name) continue;
    const len = b.readUInt32BE(i + 4);
    if (name === 'DATA' ? len < DATA_HEADER_SIZE || len > MAX_PAYLOAD : len > MAX_CONTROL_PAYLOAD || len < 2) continue;
    if (name !== 'DATA' && i + HEADER_SIZE < b.length && b[i + HEADER_SIZE] !== 0x7b) continue;
    return i;
  }
  return -1;
}

/** Decodes a frame's payload into a validated message. Throws coded errors. */
export function decodeFrame(frame: Frame): Message {
  const name = messageNameOf(frame.type);
  if (name === undefined) {
    throw new AudioLabError('AUDIOLAB_ERR_UNKNOWN_TYPE', `Unknown message type 0x${frame.type.toString(16).padStart(2, '0')}`);
  }
  const p = frame.payload;
  if (name === 'DATA') {
    if (p.length < DATA_HEADER_SIZE) throw new AudioLabError('AUDIOLAB_ERR_BAD_PAYLOAD', `DATA payload of ${p.length} bytes is shorter than its ${DATA_HEADER_SIZE}-byte header`);
    return { type: 'DATA', ...readDataHeader(p), data: p.subarray(DATA_HEADER_SIZE) };
  }
  if (p.length > MAX_CONTROL_PAYLOAD) throw new AudioLabError('AUDIOLAB_ERR_FRAME_TOO_LARGE', `${name} payload of ${p.length} bytes exceeds ${MAX_CONTROL_PAYLOAD}`);
  let body: unknown;
  try {
    body = JSON.parse(p.toString('utf8'));
  } catch {
    throw new AudioLabError('AUDIOLAB_ERR_BAD_PAYLOAD', `${name} payload is not valid JSON`);
  }
  checkObject(MESSAGES[name].fields, body, name);
  return { ...(body as object), type: name } as Message;
}
