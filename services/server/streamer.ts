/**
 * Sends a library song (or the part from an offset) as DATA frames, as fast as TCP takes them.
 *
 * The send path costs a listener little more than its socket: the bytes come from the shared block
 * cache (blocks.ts) as views, never copies; one block's DATA headers are written into one small
 * slab; each batch (one block's frames) goes out in one writev. While the kernel takes everything,
 * the pump goes on synchronously; once something waits in the process it stops until 'drain'. So a
 * slow reader pins at most one batch of views in the process (beyond the kernel's socket buffer),
 * and waiting costs no timer and no promise: one sweep for all streams finds the stalled ones.
 */
import type { Connection } from '../common/connection.ts';
import { AudioLabError } from '../protocol/errors.ts';
import { DATA_HEADER_SIZE, DEFAULT_CHUNK_SIZE, HEADER_SIZE, writeDataHeader } from '../protocol/index.ts';
import { BLOCK_SIZE, type BlockCache } from './blocks.ts';

/** A stream whose receiver takes nothing for this long is aborted. */
export const DEFAULT_STALL_MS = 30_000;
/** How often the streams waiting on their receivers are checked for a stall. */
const SWEEP_MS = 250;
const FRAME_HEAD = HEADER_SIZE + DATA_HEADER_SIZE;

export interface StreamFileOptions {
  path: string;
  /** The file's size and sha256 as the catalog knows them: the block cache's key. */
  size: number;
  sha256: string;
  cache: BlockCache;
  streamId: number;
  offset: number;
  chunkSize?: number;
  signal?: AbortSignal;
  /** How long the receiver may take nothing before the stream is aborted (AUDIOLAB_ERR_STALLED). */
  stallMs?: number;
}

/** Streams waiting for their socket to drain, with when they started waiting. */
const waiting = new Map<() => void, { since: number; stallMs: number; stall: () => void }>();
let sweeper: NodeJS.Timeout | undefined;

function sweep(): void {
  const now = Date.now();
  for (const w of waiting.values()) if (now - w.since > w.stallMs) w.stall();
  if (waiting.size === 0 && sweeper) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

/** Streams and returns the number of bytes sent. Throws AUDIOLAB_ERR_PEER_GONE when the receiver vanished, AUDIOLAB_ERR_STALLED when it stopped taking bytes. */
export function streamFile(conn: Connection, o: StreamFileOptions): Promise<number> {
  const chunkSize = o.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const stallMs = o.stallMs ?? DEFAULT_STALL_MS;
  const socket = conn.socket;
  let offset = o.offset;
  let seq = 0;
  let loading = false;
  let finished = false;

  return new Promise<number>((resolve, reject) => {
    const finish = (err?: unknown): void => {
      if (finished) return;
      finished = true;
      waiting.delete(pump);
      socket.off('drain', pump);
      socket.off('close', onClose);
      o.signal?.removeEventListener('abort', onAbort);
      if (err === undefined) resolve(offset - o.offset);
      else reject(err);
    };
    const gone = (): AudioLabError => new AudioLabError('AUDIOLAB_ERR_PEER_GONE', 'Receiver disconnected mid-stream', { streamId: o.streamId, offset });
    const onClose = (): void => finish(gone());
    const onAbort = (): void => finish(o.signal!.reason);

    /** Sends the frames of one block from `offset`: returns false when the socket must drain first. */
    const sendFrom = (block: Buffer): boolean => {
      const blockStart = Math.floor(offset / BLOCK_SIZE) * BLOCK_SIZE;
      const blockEnd = blockStart + block.length;
      const frames = Math.ceil((blockEnd - offset) / chunkSize) + 1;
      const heads = Buffer.allocUnsafe(frames * FRAME_HEAD);
      const bufs: Buffer[] = [];
      let h = 0;
      while (offset < blockEnd) {
        // chunks are cut at multiples of chunkSize in the file, so streams at one place share views
        const end = Math.min(blockEnd, (Math.floor(offset / chunkSize) + 1) * chunkSize);
        writeDataHeader(heads, h, o.streamId, seq++, offset, end - offset);
        bufs.push(heads.subarray(h, h + FRAME_HEAD), block.subarray(offset - blockStart, end - blockStart));
        h += FRAME_HEAD;
        offset = end;
      }
      return conn.sendBatch(bufs);
    };

    const pump = (): void => {
      if (finished || loading) return;
      waiting.delete(pump);
      while (!finished) {
        if (conn.isClosed) return finish(gone());
        if (offset >= o.size) return finish();
        const index = Math.floor(offset / BLOCK_SIZE);
        const block = o.cache.get(o.sha256, index);
        if (!block) {
          loading = true;
          o.cache.load(o.path, o.sha256, index, o.size).then(() => {
            loading = false;
            pump();
          }, (err: unknown) => finish(err));
          return;
        }
        if (!sendFrom(block)) {
          if (conn.isClosed) return finish(gone());
          waiting.set(pump, { since: Date.now(), stallMs, stall: () => finish(new AudioLabError('AUDIOLAB_ERR_STALLED', `The receiver took nothing for ${stallMs} ms`, { streamId: o.streamId, offset })) });
          sweeper ??= setInterval(sweep, SWEEP_MS).unref();
          return;
        }
      }
    };

    if (o.signal?.aborted) return finish(o.signal.reason);
    socket.on('drain', pump);
    socket.once('close', onClose);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    pump();
  });
}
