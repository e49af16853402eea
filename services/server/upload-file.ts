/**
 * One upload in progress. Bytes go to a hidden temporary file (.incoming/ in the music folder) and
 * are validated as they arrive: in order, within the declared size and the server's limit, and a WAV
 * header that parses as soon as enough of it is here. Only when every byte is in and the sha256
 * matches is the file renamed into the library under a free name. Anything else removes the
 * temporary file: a partial upload never becomes visible.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { link, mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { AudioLabError } from '../protocol/errors.ts';
import { WavHeaderAccumulator, type WavInfo } from '../common/wav.ts';
import { StreamCheck } from '../common/stream-check.ts';
import { alternativeName } from './names.ts';

export interface UploadSpec {
  dir: string;
  name: string;
  size: number;
  sha256: string;
}

/** Final names being claimed right now (one server process owns its music folder). */
const reserved = new Set<string>();

export class UploadWriter {
  readonly spec: UploadSpec;
  readonly tmpPath: string;
  private readonly out: WriteStream;
  private readonly check: StreamCheck;
  private readonly header: WavHeaderAccumulator;
  private wav: WavInfo | null = null;

  constructor(spec: UploadSpec, incomingDir: string) {
    this.spec = spec;
    this.check = new StreamCheck(spec, { song: spec.name });
    this.header = new WavHeaderAccumulator(spec.size);
    this.tmpPath = join(incomingDir, `${randomBytes(8).toString('hex')}.part`);
    this.out = createWriteStream(this.tmpPath, { flags: 'wx' });
    this.out.on('error', () => { /* surfaced by finish() */ });
  }

  static async create(spec: UploadSpec): Promise<UploadWriter> {
    const incoming = join(spec.dir, '.incoming');
    await mkdir(incoming, { recursive: true });
    const w = new UploadWriter(spec, incoming);
    await once(w.out, 'open');
    return w;
  }

  /**
   * Accepts the next chunk. Throws a coded error when the chunk breaks a rule (the caller aborts).
   * Returns false when the disk is behind (pause the sender until drained()).
   */
  write(offset: number, data: Buffer): boolean {
    this.check.accept(offset, data);
    if (this.wav === null) this.wav = this.header.push(data)?.info ?? null;
    return this.out.write(data);
  }

  /** Resolves when the file takes more, or will never need to (ended, closed, failed). */
  async drained(): Promise<void> {
    if (!this.out.writableNeedDrain || this.out.destroyed || this.out.writableEnded) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        for (const e of ['drain', 'close', 'finish', 'error'] as const) this.out.off(e, done);
        resolve();
      };
      for (const e of ['drain', 'close', 'finish', 'error'] as const) this.out.on(e, done);
    });
  }

  /** Verifies and publishes the file; returns its final path and name. */
  async finish(isTaken: (name: string) => boolean): Promise<{ path: string; name: string }> {
    this.out.end();
    await once(this.out, 'finish');
    if (this.check.position === this.spec.size && this.wav === null) throw new AudioLabError('AUDIOLAB_ERR_BAD_FORMAT', 'Not a supported PCM WAV', { song: this.spec.name });
    this.check.finish();
    // The claim of a final name is atomic: reserved in this process before any await, then
    // link(2), which fails with EEXIST rather than replace a file another upload (or anyone) put
    // there first. Two uploads under one name end as "x.wav" and "x (2).wav", never one over the other.
    for (let n = 1; n < 10_000; n++) {
      const name = n === 1 ? this.spec.name : alternativeName(this.spec.name, n);
      const key = name.toLowerCase();
      if (reserved.has(key) || isTaken(name)) continue;
      reserved.add(key);
      const path = join(this.spec.dir, name);
      try {
        await link(this.tmpPath, path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw err;
      } finally {
        reserved.delete(key);
      }
      await unlink(this.tmpPath).catch(() => {});
      return { path, name };
    }
    throw new AudioLabError('AUDIOLAB_ERR_BAD_NAME', 'No free name for the upload', { song: this.spec.name });
  }

  /** Drops the upload and its temporary file. Safe to call more than once. */
  async abort(): Promise<void> {
    this.out.destroy();
    await unlink(this.tmpPath).catch(() => {});
  }

  /** Bytes accepted so far. */
  get received(): number {
    return this.check.position;
  }
}
