/**
 * Sends a library song (or the part from an offset) as DATA frames, as fast as TCP takes them.
 *
 * The send path costs a listener little more than its socket and allocates nothing per chunk: the
 * bytes are the shared block cache's views (blocks.ts; cut once per block, never copied), the DATA
 * headers are written into one slab per stream, reused; each batch (one block's frames) goes out
 * in one writev. While the kernel takes everything,
 * the pump goes on synchronously; once something waits in the process it stops until 'drain'. So a
 * slow reader pins at most one batch of views in the process (beyond the kernel's socket buffer),
 * and waiting costs no timer and no promise: one sweep for all streams finds the stalled ones.
 *
 * A real-time receiver's stream (PLAY with realtime) is paced: it runs at most REALTIME_LEAD_MS
 * ahead of the song's own pace, woken by one ticker for all paced streams. A file streamed as fast
 * as TCP takes it to a listener that reads at the song's pace waits in the kernel's send buffer,
 * which on loopback grows to megabytes per connection; paced, about the lead waits there.
 */
import type { Connection } from '../common/connection.ts';
import { AudioLabError } from '../protocol/errors.ts';
import { DATA_HEADER_SIZE, DEFAULT_CHUNK_SIZE, HEADER_SIZE, writeDataHeader } from '../protocol/index.ts';
import { BLOCK_SIZE, type BlockCache, type Piece } from './blocks.ts';

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
  /** A real-time receiver's pace: send at most `leadBytes` more than `bytesPerSecond` since the start. */
  pace?: { bytesPerSecond: number; leadBytes: number };
}

interface Wait { since: number; stallMs: number; stall: () => void }
/** Streams waiting for their socket to drain, with when they started waiting. */
const waiting = new Map<() => void, Wait>();
let sweeper: NodeJS.Timeout | undefined;

/** Paced streams ahead of their pace, with when the next piece is due. */
const ahead = new Map<() => void, { dueAt: number }>();
let pacer: NodeJS.Timeout | undefined;
/** How often paced streams are woken: a piece is due at most this late. */
const PACE_TICK_MS = 20;

function tickPaced(): void {
  const now = performance.now();
  for (const [pump, a] of ahead) if (now >= a.dueAt) pump();
  if (ahead.size === 0 && pacer) {
    clearInterval(pacer);
    pacer = undefined;
  }
}

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
      ahead.delete(pump);
      socket.off('drain', pump);
      socket.off('close', onClose);
      o.signal?.removeEventListener('abort', onAbort);
      if (err === undefined) resolve(offset - o.offset);
      else reject(err);
    };
    const gone = (): AudioLabError => new AudioLabError('AUDIOLAB_ERR_PEER_GONE', 'Receiver disconnected mid-stream', { streamId: o.streamId, offset });
    const onClose = (): void => finish(gone());
    const onAbort = (): void => finish(o.signal!.reason);

    // One header slab, reused for every batch: a batch is prepared only once the last one has
    // left the process (the kernel took it all, or 'drain' came), so no header is overwritten
    // while a write still holds it.
    const maxFrames = Math.ceil(BLOCK_SIZE / Math.min(chunkSize, BLOCK_SIZE)) + 1;
    const slab = Buffer.allocUnsafeSlow(maxFrames * FRAME_HEAD);
    const heads = Array.from({ length: maxFrames }, (_, i) => slab.subarray(i * FRAME_HEAD, (i + 1) * FRAME_HEAD));
    const bufs: Buffer[] = [];
    const started = performance.now();
    const pacing = { dueAt: 0 };
    const wait = { since: 0, stallMs, stall: (): void => finish(new AudioLabError('AUDIOLAB_ERR_STALLED', `The receiver took nothing for ${stallMs} ms`, { streamId: o.streamId, offset })) };

    /** Sends the pieces of one block from `offset`: returns false when the socket must drain first. */
    const sendFrom = (pieces: readonly Piece[]): boolean => {
      bufs.length = 0;
      let h = 0;
      for (const p of pieces) {
        const end = p.offset + p.data.length;
        if (end <= offset) continue;
        // a stream that started inside a piece (a resume) sends that piece's rest as its own view
        const data = p.offset === offset ? p.data : p.data.subarray(offset - p.offset);
        writeDataHeader(slab, h * FRAME_HEAD, o.streamId, seq++, offset, data.length);
        bufs.push(heads[h++]!, data);
        offset = end;
      }
      return conn.sendBatch(bufs);
    };

    const pump = (): void => {
      if (finished || loading) return;
      waiting.delete(pump);
      ahead.delete(pump);
      while (!finished) {
        if (conn.isClosed) return finish(gone());
        if (offset >= o.size) return finish();
        if (o.pace) {
          // ahead of the pace: wait (no stall clock runs) until the next piece is due
          const sent = offset - o.offset - o.pace.leadBytes;
          const dueAt = started + (sent / o.pace.bytesPerSecond) * 1000;
          if (dueAt > performance.now()) {
            pacing.dueAt = dueAt;
            ahead.set(pump, pacing);
            pacer ??= setInterval(tickPaced, PACE_TICK_MS).unref();
            return;
          }
        }
        const index = Math.floor(offset / BLOCK_SIZE);
        const pieces = o.cache.pieces(o.sha256, index, chunkSize);
        if (!pieces) {
          loading = true;
          o.cache.load(o.path, o.sha256, index, o.size).then(() => {
            loading = false;
            pump();
          }, (err: unknown) => finish(err));
          return;
        }
        if (!sendFrom(pieces)) {
          if (conn.isClosed) return finish(gone());
          wait.since = Date.now();
          waiting.set(pump, wait);
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
