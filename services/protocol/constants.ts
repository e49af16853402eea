/**
 * The audiolab wire format, part 1: framing constants. See docs/protocol.md.
 *
 *   0      1      2        3       4               8
 *   +------+------+--------+-------+---------------+----------------
 *   | 'A'  | 'L'  | version| type  | length (u32BE)| payload ...
 *   +------+------+--------+-------+---------------+----------------
 */

export const MAGIC_0 = 0x41; // "A"
export const MAGIC_1 = 0x4c; // "L"
export const HEADER_SIZE = 8;

/** Versions this build speaks, lowest first. Negotiated in HELLO/WELCOME. */
export const SUPPORTED_VERSIONS: readonly number[] = [1];
export const CURRENT_VERSION = 1;

/** Hard maximum payload of any frame (DATA included). */
export const MAX_PAYLOAD = 1024 * 1024;
/** Control (JSON) payloads are much smaller. */
export const MAX_CONTROL_PAYLOAD = 64 * 1024;

/** DATA payload: streamId u32, seq u32, offset u64 (hi u32, lo u32), then bytes. */
export const DATA_HEADER_SIZE = 16;
export const DEFAULT_CHUNK_SIZE = 16 * 1024;

export const DEFAULT_PORT = 5050;

/**
 * A PLAY with `realtime` (the client plays as it receives, like a sound card) is sent at the song's
 * own pace, this far ahead of it, instead of as fast as TCP takes it: what waits for the listener
 * in kernel buffers stays about this much audio, not a whole send buffer.
 */
export const REALTIME_LEAD_MS = 2000;

/** Streams one client may take part in at once (plays, uploads, relays either way); more: BUSY. */
export const MAX_STREAMS_PER_CLIENT = 8;

/** WELCOME lists at most this many of those online; WHO gets the whole list. */
export const WELCOME_CLIENTS = 100;
/**
 * Changes of who is online go out in rounds, at most one every PRESENCE_INTERVAL_MS (the first
 * change after a quiet spell at once): a round of up to PRESENCE_DETAIL changes as PRESENCE deltas,
 * a bigger one as one ONLINE count. A join storm costs each client a few small frames a second.
 */
export const PRESENCE_INTERVAL_MS = 250;
export const PRESENCE_DETAIL = 32;
