/**
 * The audiolab wire format, part 2: every message, its type byte, direction and fields.
 * This table is the single definition of the protocol: the TypeScript types, the runtime validator,
 * docs/protocol.md and the Wireshark dissector's tables are all derived from it.
 */

/** Field kinds. A trailing `?` marks an optional field. */
export type FieldKind =
  | 'string' | 'uint' | 'number' | 'boolean' | 'uint[]'
  | 'format' | 'client' | 'client[]' | 'song' | 'song[]';
type FieldSpec = FieldKind | `${FieldKind}?`;

interface MessageSpec {
  readonly code: number;
  /** c2s: client to server; s2c: server to client; both. */
  readonly dir: 'c2s' | 's2c' | 'both';
  /** `binary`: fixed binary layout (DATA); `json`: a UTF-8 JSON object. */
  readonly body: 'json' | 'binary';
  readonly fields: Readonly<Record<string, FieldSpec>>;
  readonly doc: string;
}

export const MESSAGES = {
  HELLO: { code: 0x01, dir: 'c2s', body: 'json', fields: { versions: 'uint[]', name: 'string', software: 'string?' },
    doc: 'First frame of a client: the versions it speaks and the name it would like.' },
  WELCOME: { code: 0x02, dir: 's2c', body: 'json', fields: { version: 'uint', clientId: 'uint', name: 'string', motd: 'string', clients: 'client[]', online: 'uint', seq: 'uint' },
    doc: 'The server\'s answer to HELLO: chosen version, the client\'s id and unique name, how many are online and the first of them, the client itself first (at most WELCOME_CLIENTS; WHO gets the rest); seq: the last change of who is online it reflects.' },
  PRESENCE: { code: 0x03, dir: 's2c', body: 'json', fields: { event: 'string', client: 'client', online: 'uint', seq: 'uint' },
    doc: 'A change to who is online, as a delta: a client joined, left or started listening (event: join | leave | listen); online: how many after it; seq: its number (a client skips those its WELCOME or CLIENTS already reflect).' },
  ONLINE: { code: 0x08, dir: 's2c', body: 'json', fields: { online: 'uint', changes: 'uint', seq: 'uint' },
    doc: 'Many changes to who is online at once (more than PRESENCE_DETAIL in one round), as a count: online now, after `changes` changes up to seq. A list held is out of date; WHO gets it whole.' },
  WHO: { code: 0x09, dir: 'c2s', body: 'json', fields: { req: 'uint' },
    doc: 'Ask for the whole list of who is online, answered by CLIENTS pages.' },
  CLIENTS: { code: 0x07, dir: 's2c', body: 'json', fields: { req: 'uint', clients: 'client[]', more: 'boolean', seq: 'uint' },
    doc: 'A page of the answer to WHO (more: another page follows); seq: the last change of who is online the list reflects.' },
  PING: { code: 0x04, dir: 'both', body: 'json', fields: { t: 'number' }, doc: 'Keep-alive; answered with PONG.' },
  PONG: { code: 0x05, dir: 'both', body: 'json', fields: { t: 'number' }, doc: 'Answer to PING, echoing t.' },
  BYE: { code: 0x06, dir: 'both', body: 'json', fields: { reason: 'string' }, doc: 'Orderly goodbye before closing.' },

  LIST: { code: 0x10, dir: 'c2s', body: 'json', fields: { req: 'uint' }, doc: 'Ask for the catalog.' },
  CATALOG: { code: 0x11, dir: 's2c', body: 'json', fields: { req: 'uint?', songs: 'song[]', reason: 'string?', more: 'boolean?' },
    doc: 'The songs on the server, a page at a time (more: another CATALOG page of the same answer follows); also pushed unasked when the catalog changes.' },

  PLAY: { code: 0x20, dir: 'c2s', body: 'json', fields: { req: 'uint', song: 'string', offset: 'uint', realtime: 'boolean?' },
    doc: 'Stream a library song to me, from byte offset (0, or where an interrupted download stopped); realtime: I play it as it comes, send it at its own pace, REALTIME_LEAD_MS ahead (else as fast as TCP takes it).' },
  STREAM_START: { code: 0x21, dir: 's2c', body: 'json',
    fields: { req: 'uint?', streamId: 'uint', kind: 'string', song: 'string', from: 'string?', size: 'uint', offset: 'uint', sha256: 'string', format: 'format' },
    doc: 'A stream to this client begins (kind: play | play-on | relay). DATA frames with streamId follow.' },
  DATA: { code: 0x22, dir: 'both', body: 'binary', fields: { streamId: 'uint', seq: 'uint', offset: 'uint' },
    doc: 'An audio chunk: streamId u32, seq u32, offset u64, then the bytes of the file at that offset.' },
  STREAM_END: { code: 0x23, dir: 'both', body: 'json', fields: { streamId: 'uint', bytes: 'uint', sha256: 'string?' },
    doc: 'The sender has sent every byte of the stream.' },
  STREAM_ABORT: { code: 0x24, dir: 'both', body: 'json', fields: { streamId: 'uint', code: 'string', message: 'string' },
    doc: 'The stream stops before its end; code says why.' },

  RECEIVED: { code: 0x26, dir: 'c2s', body: 'json', fields: { streamId: 'uint', bytes: 'uint' },
    doc: 'The receiver of a pushed stream (play-on, relay) has every byte, verified against STREAM_END\'s size and sha256; only then is the sender told OK.' },
  PLAYED: { code: 0x25, dir: 'c2s', body: 'json', fields: { song: 'string', sha256: 'string', source: 'string' },
    doc: 'The client played a song without a transfer (source: cache). No answer; lets the server (and a capture) see cached replays.' },

  UPLOAD: { code: 0x30, dir: 'c2s', body: 'json', fields: { req: 'uint', name: 'string', size: 'uint', sha256: 'string' },
    doc: 'Offer a song for the library. The server answers READY (then send DATA + STREAM_END) or ERROR.' },
  UPLOAD_DONE: { code: 0x31, dir: 's2c', body: 'json', fields: { req: 'uint', name: 'string', sha256: 'string', song: 'song' },
    doc: 'The upload was verified and is now in the catalog under name.' },

  LISTEN: { code: 0x40, dir: 'c2s', body: 'json', fields: { req: 'uint', accept: 'boolean' },
    doc: 'Declare that this client accepts streams from others (or no longer does).' },
  PLAY_ON: { code: 0x41, dir: 'c2s', body: 'json', fields: { req: 'uint', target: 'string', song: 'string' },
    doc: 'Ask the server to play a library song on another (listening) client.' },
  SEND_TO: { code: 0x42, dir: 'c2s', body: 'json', fields: { req: 'uint', target: 'string', name: 'string', size: 'uint', sha256: 'string', format: 'format' },
    doc: 'Relay: stream my own song to another client through the server. READY, then DATA + STREAM_END.' },
  INVITE: { code: 0x43, dir: 's2c', body: 'json', fields: { streamId: 'uint', kind: 'string', from: 'string', song: 'string', size: 'uint', sha256: 'string', format: 'format' },
    doc: 'Asks a listening client whether it accepts a stream. Answer ACCEPT or REFUSE.' },
  ACCEPT: { code: 0x44, dir: 'c2s', body: 'json', fields: { streamId: 'uint' }, doc: 'The receiver accepts the invited stream.' },
  REFUSE: { code: 0x45, dir: 'c2s', body: 'json', fields: { streamId: 'uint', reason: 'string' }, doc: 'The receiver refuses the invited stream.' },
  READY: { code: 0x46, dir: 's2c', body: 'json', fields: { req: 'uint', streamId: 'uint' },
    doc: 'Go ahead: send the DATA frames of an UPLOAD or SEND_TO with this streamId.' },

  OK: { code: 0x7e, dir: 's2c', body: 'json', fields: { req: 'uint', streamId: 'uint?', bytes: 'uint?', status: 'string?' },
    doc: 'The request req succeeded (LISTEN; PLAY_ON and SEND_TO once the receiver confirmed it has everything: RECEIVED).' },
  ERROR: { code: 0x7f, dir: 'both', body: 'json', fields: { req: 'uint?', streamId: 'uint?', code: 'string', message: 'string', fatal: 'boolean?' },
    doc: 'A request failed, or (fatal) the connection is about to close. code is a stable AUDIOLAB_ERR_* string.' },
} as const satisfies Record<string, MessageSpec>;

export type MessageName = keyof typeof MESSAGES;

export const SUB_SCHEMAS = {
  format: { sampleRate: 'uint', channels: 'uint', bitsPerSample: 'uint', encoding: 'string' },
  client: { id: 'uint', name: 'string', address: 'string', listening: 'boolean' },
  song: { name: 'string', durationMs: 'number', sampleRate: 'uint', channels: 'uint', bitsPerSample: 'uint', encoding: 'string', size: 'uint', sha256: 'string' },
} as const satisfies Record<string, Record<string, FieldSpec>>;

export interface AudioFormat { sampleRate: number; channels: number; bitsPerSample: number; encoding: 'pcm' | 'float' | string }
export interface ClientInfo { id: number; name: string; address: string; listening: boolean }
export interface SongInfo {
  name: string; durationMs: number; sampleRate: number; channels: number; bitsPerSample: number;
  encoding: string; size: number; sha256: string;
}

type Base<K extends string> = K extends 'string' ? string
  : K extends 'uint' | 'number' ? number
  : K extends 'boolean' ? boolean
  : K extends 'uint[]' ? number[]
  : K extends 'format' ? AudioFormat
  : K extends 'client' ? ClientInfo
  : K extends 'client[]' ? ClientInfo[]
  : K extends 'song' ? SongInfo
  : K extends 'song[]' ? SongInfo[]
  : never;
type Required_<F> = { [K in keyof F as F[K] extends `${string}?` ? never : K]: F[K] extends string ? Base<F[K]> : never };
type Optional_<F> = { [K in keyof F as F[K] extends `${string}?` ? K : never]?: F[K] extends `${infer B}?` ? Base<B> : never };
type Flatten<T> = { [K in keyof T]: T[K] };
type Fields<N extends MessageName> = Flatten<Required_<(typeof MESSAGES)[N]['fields']> & Optional_<(typeof MESSAGES)[N]['fields']>>;

/** A decoded control message. DATA carries its bytes in `data`. */
export type Message = { [N in MessageName]: Flatten<{ type: N } & Fields<N> & (N extends 'DATA' ? { data: Buffer } : unknown)> }[MessageName];
export type MessageOf<N extends MessageName> = Extract<Message, { type: N }>;

const byCode = new Map<number, MessageName>();
for (const [name, spec] of Object.entries(MESSAGES)) byCode.set(spec.code, name as MessageName);

export function messageNameOf(code: number): MessageName | undefined {
  return byCode.get(code);
}
