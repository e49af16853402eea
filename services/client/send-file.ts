/** Sending a local file as one stream: DATA frames then STREAM_END (an upload, or a send-to's relay). */
import { open } from 'node:fs/promises';
import type { Connection } from '../common/connection.ts';

/**
 * Sends `size` bytes of the file at `path` as stream `streamId`, in chunks of `chunkSize`, waiting
 * for `drain` whenever the socket's buffer is full (the server's window reaches the disk read).
 * Stops early, without STREAM_END, once `outcome` rejects (the server refused or the peer left).
 */
export async function sendFile(conn: Connection, path: string, streamId: number, size: number, chunkSize: number,
  onProgress: ((sent: number, total: number) => void) | undefined, outcome: Promise<unknown>): Promise<void> {
  let failed = false;
  outcome.catch(() => { failed = true; });
  const fh = await open(path, 'r');
  try {
    let offset = 0;
    let seq = 0;
    while (offset < size && !failed) {
      const buf = Buffer.allocUnsafe(Math.min(chunkSize, size - offset));
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) break;
      if (conn.isClosed) break;
      if (!conn.sendData(streamId, seq++, offset, buf.subarray(0, bytesRead))) await conn.drain();
      offset += bytesRead;
      onProgress?.(offset, size);
    }
    if (!failed && !conn.isClosed) conn.send({ type: 'STREAM_END', streamId, bytes: offset });
  } finally {
    await fh.close();
  }
}
