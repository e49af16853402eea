/**
 * The song catalog: the valid PCM WAV files of the music folder, with their format, duration, size
 * and sha256. Files that are not valid are left out with a warning; hidden files (uploads in
 * progress live in .incoming/) are never listed.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { AudioLabError } from '../protocol/errors.ts';
import { MAX_HEADER_BYTES, parseWavHeader, type WavInfo } from '../common/wav.ts';
import type { SongInfo } from '../protocol/index.ts';
import type { Logger } from '../common/log.ts';
import { sha256File } from '../common/hash.ts';

export interface CatalogEntry {
  info: SongInfo;
  path: string;
  wav: WavInfo;
}

/** Reads and validates a WAV file's header; throws AUDIOLAB_ERR_BAD_FORMAT. */
export async function readWavInfo(path: string): Promise<{ wav: WavInfo; size: number }> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const buf = Buffer.alloc(Math.min(size, MAX_HEADER_BYTES));
    await fh.read(buf, 0, buf.length, 0);
    const wav = parseWavHeader(buf, size);
    if (wav === null) throw new AudioLabError('AUDIOLAB_ERR_BAD_FORMAT', 'Not a supported PCM WAV: file ends inside the header');
    return { wav, size };
  } finally {
    await fh.close();
  }
}

export async function describeSong(path: string, name: string): Promise<CatalogEntry> {
  const { wav, size } = await readWavInfo(path);
  const sha256 = await sha256File(path);
  const f = wav.format;
  return {
    path, wav,
    info: {
      name, size, sha256,
      durationMs: Math.round(wav.durationMs * 1000) / 1000,
      sampleRate: f.sampleRate, channels: f.channels, bitsPerSample: f.bitsPerSample, encoding: f.encoding,
    },
  };
}

export class Catalog extends EventEmitter<{ change: [string] }> {
  readonly dir: string;
  private readonly log: Logger;
  private readonly songs = new Map<string, CatalogEntry>();
  /** mtime+size of what each entry was computed from, so a rescan does not rehash. */
  private readonly stamps = new Map<string, string>();

  constructor(dir: string, log: Logger) {
    super();
    this.dir = dir;
    this.log = log;
  }

  async scan(): Promise<void> {
    const names = (await readdir(this.dir, { withFileTypes: true }))
      .filter((d) => d.isFile() && !d.name.startsWith('.') && /\.wav$/i.test(d.name))
      .map((d) => d.name)
      .sort();
    const seen = new Set<string>();
    for (const name of names) {
      const path = join(this.dir, name);
      seen.add(name);
      try {
        const st = await stat(path);
        const stamp = `${st.mtimeMs}:${st.size}`;
        if (this.stamps.get(name) === stamp) continue;
        const entry = await describeSong(path, name);
        this.songs.set(name, entry);
        this.stamps.set(name, stamp);
      } catch (err) {
        this.songs.delete(name);
        this.stamps.delete(name);
        this.log.warn('catalog.skip', { song: name, reason: err instanceof Error ? err.message : String(err) });
      }
    }
    for (const name of [...this.songs.keys()]) if (!seen.has(name)) this.songs.delete(name);
    this.log.info('catalog.scan', { dir: this.dir, songs: this.songs.size });
  }

  list(): SongInfo[] {
    return [...this.songs.values()].map((e) => e.info);
  }

  get(name: string): CatalogEntry | undefined {
    return this.songs.get(name);
  }

  has(name: string): boolean {
    return this.songs.has(name);
  }

  add(entry: CatalogEntry, reason: string): void {
    this.songs.set(entry.info.name, entry);
    this.emit('change', reason);
  }
}
