/**
 * Sends a file (or the part from an offset) as DATA frames, as fast as TCP takes them. When the
 * socket's buffer is full it waits for 'drain' before reading more of the file, so a slow reader
 * costs at most one socket buffer plus one chunk of memory.
 */
import { createReadStream } from 'node:fs';
import type { Connection } from '../common/connection.ts';
import { AudioLabError } from '../protocol/errors.ts';
import { DEFAULT_CHUNK_SIZE } from '../protocol/index.ts';

const READ_BLOCK = 256 * 1024;
/** A stream whose receiver takes nothing for this long is aborted. */
export const DEFAULT_STALL_MS = 30_000;

export interface StreamFileOptions {
  path: string;
  streamId: number;
  offset: number;
  chunkSize?: number;
  signal?: AbortSignal;
  /** How long the receiver may take nothing before the stream is aborted (AUDIOLAB_ERR_STALLED). */
  stallMs?: number;
}

/** Streams and returns the number of bytes sent. Throws AUDIOLAB_ERR_PEER_GONE when the receiver vanished, AUDIOLAB_ERR_STALLED when it stopped taking bytes. */
export async function streamFile(conn: Connection, o: StreamFileOptions): Promise<number> {
  const chunkSize = o.chunkSize ?? DEFAULT_CHUNK_SIZE;
  // Read big blocks (fewer syscalls) and cut them into DATA frames: views, no copies; one cork per block.
  const src = createReadStream(o.path, { start: o.offset, highWaterMark: Math.max(chunkSize, READ_BLOCK - (READ_BLOCK % chunkSize)) });
  let offset = o.offset;
  let seq = 0;
  try {
    for await (const chunk of src) {
      if (conn.isClosed) throw new AudioLabError('AUDIOLAB_ERR_PEER_GONE', 'Receiver disconnected mid-stream', { streamId: o.streamId, offset });
      if (o.signal?.aborted) throw o.signal.reason;
      const block = chunk as Buffer;
      let ok = true;
      conn.socket.cork();
      for (let i = 0; i < block.length; i += chunkSize) {
        const piece = block.subarray(i, i + chunkSize);
        ok = conn.sendData(o.streamId, seq++, offset, piece);
        offset += piece.length;
      }
      conn.socket.uncork();
      if (!ok && !(await conn.drainWithin(o.stallMs ?? DEFAULT_STALL_MS))) {
        throw new AudioLabError('AUDIOLAB_ERR_STALLED', `The receiver took nothing for ${o.stallMs ?? DEFAULT_STALL_MS} ms`, { streamId: o.streamId, offset });
      }
    }
  } finally {
    src.destroy();
  }
  if (conn.isClosed) throw new AudioLabError('AUDIOLAB_ERR_PEER_GONE', 'Receiver disconnected mid-stream', { streamId: o.streamId, offset });
  return offset - o.offset;
}
