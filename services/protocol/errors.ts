/**
 * One catalogue of coded errors (after undici's lib/core/errors.js and fastify's lib/errors.js),
 * for every part of the project: it lives in the protocol, which imports nothing, so every part
 * may import it. Code paths branch on `code`, never on message text. Each code has a default
 * message; callers add context (peer, song, stream) that is carried along and logged.
 *
 * WIRE_ERRORS are part of the protocol: the codes an ERROR frame may carry (docs/protocol.md).
 * LOCAL_ERRORS never travel: they are what a command reports about its own side.
 */

export const WIRE_ERRORS = {
  // Wire format (the frame decoder and message codec)
  AUDIOLAB_ERR_BAD_MAGIC: 'The bytes are not an audiolab frame (bad magic)',
  AUDIOLAB_ERR_UNSUPPORTED_VERSION: 'Protocol version not supported',
  AUDIOLAB_ERR_UNKNOWN_TYPE: 'Unknown message type',
  AUDIOLAB_ERR_FRAME_TOO_LARGE: 'Frame exceeds the maximum size',
  AUDIOLAB_ERR_BAD_PAYLOAD: 'Malformed message payload',
  AUDIOLAB_ERR_UNEXPECTED_MESSAGE: 'Message not allowed in this state',
  // Requests
  AUDIOLAB_ERR_NO_SUCH_SONG: 'No such song in the catalog',
  AUDIOLAB_ERR_BAD_NAME: 'Song name not allowed',
  AUDIOLAB_ERR_BAD_FORMAT: 'Not a supported PCM WAV file',
  AUDIOLAB_ERR_TOO_LARGE: 'Upload exceeds the size limit',
  AUDIOLAB_ERR_SIZE_MISMATCH: 'Byte count differs from the declared size',
  AUDIOLAB_ERR_HASH_MISMATCH: 'Content does not match the declared sha256',
  AUDIOLAB_ERR_BAD_OFFSET: 'Offset outside the song',
  AUDIOLAB_ERR_NO_SUCH_CLIENT: 'No such client online',
  AUDIOLAB_ERR_NOT_LISTENING: 'That client does not accept streams',
  AUDIOLAB_ERR_REFUSED: 'The receiver refused the stream',
  AUDIOLAB_ERR_BUSY: 'Too many streams in progress',
  AUDIOLAB_ERR_PEER_GONE: 'The other end of the stream disconnected',
  AUDIOLAB_ERR_STALLED: 'The stream made no progress in time: its receiver took nothing',
  AUDIOLAB_ERR_SERVER_FULL: 'The server has reached its maximum number of clients',
  AUDIOLAB_ERR_IDLE_TIMEOUT: 'Connection closed after being idle too long',
  AUDIOLAB_ERR_HELLO_TIMEOUT: 'No HELLO in time after connecting',
  AUDIOLAB_ERR_SHUTTING_DOWN: 'The server is shutting down',
  AUDIOLAB_ERR_TIMEOUT: 'No answer in time',
  AUDIOLAB_ERR_INTERNAL: 'Internal server error',
} as const;

export const LOCAL_ERRORS = {
  // Client side
  AUDIOLAB_ERR_CONNECTION: 'Connection to the server failed or was closed',
  AUDIOLAB_ERR_CACHE: 'Cache entry unusable',
  AUDIOLAB_ERR_SINK: 'Audio output failed',
  AUDIOLAB_ERR_SCENARIO: 'Scenario step failed',
  AUDIOLAB_ERR_USAGE: 'Invalid command-line usage',
  AUDIOLAB_ERR_INTERRUPTED: 'Interrupted (Ctrl-C)',
  AUDIOLAB_ERR_FILE: 'A local file cannot be read',
  // Captures
  AUDIOLAB_ERR_CAPTURE_FORMAT: 'Not a pcap or pcapng capture',
  AUDIOLAB_ERR_CAPTURE_TRUNCATED: 'Capture file is truncated',
  AUDIOLAB_ERR_CAPTURE_CORRUPT: 'Capture file is corrupt',
  AUDIOLAB_ERR_LINKTYPE: 'Unsupported link type',
  AUDIOLAB_ERR_CAPTURE_UNAVAILABLE: 'Live capture is not possible here',
  AUDIOLAB_ERR_DOCKER_UNAVAILABLE: 'Docker or Compose is not available',
  AUDIOLAB_ERR_NOT_SET_UP: 'This machine is not set up for that yet',
  AUDIOLAB_ERR_OUTPUT_BUDGET: 'The peer does not read what it is sent: the connection was dropped',
  // Comparing runs
  AUDIOLAB_ERR_MISMATCH: 'The two runs are not the same experiment',
} as const;

export const ERROR_CODES = { ...WIRE_ERRORS, ...LOCAL_ERRORS } as const;

export type WireErrorCode = keyof typeof WIRE_ERRORS;
export type ErrorCode = keyof typeof ERROR_CODES;

/** A code an ERROR frame may carry. */
export function isWireErrorCode(code: unknown): code is WireErrorCode {
  return typeof code === 'string' && Object.hasOwn(WIRE_ERRORS, code);
}

export interface ErrorContext {
  peer?: string;
  song?: string;
  streamId?: number;
  offset?: number;
  [key: string]: unknown;
}

export class AudioLabError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message?: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message ?? ERROR_CODES[code], options);
    this.name = 'AudioLabError';
    this.code = code;
    this.context = context;
  }
}

/** Wraps anything thrown into an AudioLabError, keeping coded errors as they are. */
export function toAudioLabError(err: unknown, fallback: ErrorCode = 'AUDIOLAB_ERR_INTERNAL'): AudioLabError {
  if (err instanceof AudioLabError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new AudioLabError(fallback, message, {}, { cause: err });
}
