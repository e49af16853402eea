/**
 * The library's read cache: songs are read in fixed blocks, and a block read once serves every
 * listener that reaches it, so a thousand listeners of one song cost one read and one buffer per
 * block, not a thousand. Blocks are keyed by the song's sha256 (a replaced file never serves stale
 * bytes) and kept least-recently-used within a byte budget; a block evicted while a socket still
 * holds a view of it lives on only until that write is done.
 */
import { open } from 'node:fs/promises';

/** Bytes per block: a multiple of any chunk size that divides it, and small enough that a slow listener pins little. */
export const BLOCK_SIZE = 64 * 1024;
/** Bytes of blocks kept for reuse. */
export const DEFAULT_CACHE_BYTES = 16 * 1024 * 1024;

/** A piece of a song: its offset in the file and a view of its bytes. */
export interface Piece {
  offset: number;
  data: Buffer;
}

export class BlockCache {
  private readonly blocks = new Map<string, Buffer>();
  private readonly cuts = new WeakMap<Buffer, { chunkSize: number; list: Piece[] }>();
  private readonly reading = new Map<string, Promise<Buffer>>();
  private bytes = 0;
  readonly budget: number;
  /** Reads from disk and blocks served from memory, for the bench and the tests. */
  reads = 0;
  hits = 0;

  constructor(budget = DEFAULT_CACHE_BYTES) {
    this.budget = budget;
  }

  /** The block if it is in memory (and marks it recently used). */
  get(id: string, index: number): Buffer | undefined {
    const key = `${id}:${index}`;
    const b = this.blocks.get(key);
    if (b) {
      this.hits++;
      this.blocks.delete(key);
      this.blocks.set(key, b);
    }
    return b;
  }

  /**
   * The block (if in memory) cut into the pieces DATA frames carry: at multiples of `chunkSize` in
   * the file. Made once per block and chunk size, so every stream at that place sends the same views.
   */
  pieces(id: string, index: number, chunkSize: number): Piece[] | undefined {
    const block = this.get(id, index);
    if (!block) return undefined;
    let cut = this.cuts.get(block);
    if (!cut || cut.chunkSize !== chunkSize) {
      const start = index * BLOCK_SIZE;
      const list: Piece[] = [];
      for (let at = start; at < start + block.length;) {
        const end = Math.min(start + block.length, (Math.floor(at / chunkSize) + 1) * chunkSize);
        list.push({ offset: at, data: block.subarray(at - start, end - start) });
        at = end;
      }
      cut = { chunkSize, list };
      this.cuts.set(block, cut);
    }
    return cut.list;
  }

  /** Reads block `index` of the file at `path` (of `size` bytes); concurrent loads of one block share one read. */
  load(path: string, id: string, index: number, size: number): Promise<Buffer> {
    const key = `${id}:${index}`;
    const cached = this.blocks.get(key);
    if (cached) return Promise.resolve(cached);
    let p = this.reading.get(key);
    if (!p) {
      p = this.read(path, index, size).then((b) => {
        this.reading.delete(key);
        this.keep(key, b);
        return b;
      }, (err: unknown) => {
        this.reading.delete(key);
        throw err;
      });
      this.reading.set(key, p);
    }
    return p;
  }

  private async read(path: string, index: number, size: number): Promise<Buffer> {
    const start = index * BLOCK_SIZE;
    const len = Math.max(0, Math.min(BLOCK_SIZE, size - start));
    const buf = Buffer.allocUnsafeSlow(len);
    const fh = await open(path, 'r');
    try {
      let got = 0;
      while (got < len) {
        const { bytesRead } = await fh.read(buf, got, len - got, start + got);
        if (bytesRead === 0) throw new Error(`${path} is shorter than the catalog says (${start + got} of ${size} bytes)`);
        got += bytesRead;
      }
    } finally {
      await fh.close();
    }
    this.reads++;
    return buf;
  }

  private keep(key: string, b: Buffer): void {
    if (b.length > this.budget) return;
    this.blocks.set(key, b);
    this.bytes += b.length;
    for (const [k, old] of this.blocks) {
      if (this.bytes <= this.budget) break;
      this.blocks.delete(k);
      this.bytes -= old.length;
    }
  }
}
