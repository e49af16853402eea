/**
 * Sends a file (or the part from an offset) as DATA frames, as fast as TCP takes them. When the
 * socket's buffer is full it waits for 'drain' before reading more of the file, so a slow reader
 * costs at most one socket buffer plus one chunk of memory.
 */
import { createReadStream } from 'node:fs';
import type { Connection } from '../common/connection.ts';
import { AudioLabError } from '../errors.ts';
import { DEFAULT_CHUNK_SIZE } from '../protocol/index.ts';

export interface StreamFileOptions {
  path: string;
  streamId: number;
  offset: number;
  chunkSize?: number;
  signal?: AbortSignal;
}

/** Streams and returns the number of bytes sent. Throws AUDIOLAB_ERR_PEER_GONE when the receiver vanished. */
export async function streamFile(conn: Connection, o: StreamFileOptions): Promise<number> {
  const chunkSize = o.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const src = createReadStream(o.path, { start: o.offset, highWaterMark: chunkSize });
  let offset = o.offset;
  let seq = 0;
  try {
    for await (const chunk of src) {
      if (conn.isClosed) throw new AudioLabError('AUDIOLAB_ERR_PEER_GONE', 'Receiver disconnected mid-stream', { streamId: o.streamId, offset });
      if (o.signal?.aborted) throw o.signal.reason;
      const buf = chunk as Buffer;
      if (!conn.sendData(o.streamId, seq++, offset, buf)) await conn.drain();
      offset += buf.length;
    }
  } finally {
    src.destroy();
  }
  if (conn.isClosed) throw new AudioLabError('AUDIOLAB_ERR_PEER_GONE', 'Receiver disconnected mid-stream', { streamId: o.streamId, offset });
  return offset - o.offset;
}
