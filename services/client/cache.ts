/**
 * The client's song cache: content-addressed (a song is stored under its sha256), verified against
 * the catalog's sha256 before every use (a corrupt entry is deleted and fetched again), bounded in
 * size with least-recently-used eviction, and resumable: an interrupted download stays as
 * `<sha256>.part` and the next play asks the server for the rest from that offset.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { AudioLabError } from '../protocol/errors.ts';
import { sha256File } from '../common/hash.ts';

interface IndexEntry { name: string; size: number; lastUsed: number }

export const DEFAULT_CACHE_DIR = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tcp-audio-lab', 'songs');

export class SongCache {
  readonly dir: string;
  readonly maxBytes: number;
  private index: Record<string, IndexEntry> | undefined;

  constructor(dir = DEFAULT_CACHE_DIR, maxBytes = 512 * 1024 * 1024) {
    this.dir = dir;
    this.maxBytes = maxBytes;
  }

  pathFor(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new AudioLabError('AUDIOLAB_ERR_CACHE', `Bad sha256 ${JSON.stringify(sha256)}`);
    return join(this.dir, `${sha256}.wav`);
  }

  partPathFor(sha256: string): string {
    return this.pathFor(sha256).replace(/\.wav$/, '.part');
  }

  private async load(): Promise<Record<string, IndexEntry>> {
    if (!this.index) {
      await mkdir(this.dir, { recursive: true });
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readFile(join(this.dir, 'index.json'), 'utf8'));
      } catch {
        parsed = undefined;
      }
      // a missing, garbage or hand-edited index is rebuilt from the files (each is named by its
      // sha256 and verified before use), so no cached song is orphaned, and nothing counts twice
      this.index = isIndex(parsed) ? parsed : await this.rebuild();
    }
    return this.index;
  }

  /** The index from the `<sha256>.wav` files present: their size, and their modification time as last use. */
  private async rebuild(): Promise<Record<string, IndexEntry>> {
    const index: Record<string, IndexEntry> = {};
    for (const f of await readdir(this.dir)) {
      const m = /^([0-9a-f]{64})\.wav$/.exec(f);
      if (!m) continue;
      const st = await stat(join(this.dir, f)).catch(() => null);
      if (st?.isFile()) index[m[1]!] = { name: '(name unknown: rebuilt index)', size: st.size, lastUsed: st.mtimeMs };
    }
    return index;
  }

  private async save(): Promise<void> {
    const tmp = join(this.dir, `index.json.${process.pid}.tmp`);
    await writeFile(tmp, JSON.stringify(this.index ?? {}, null, 1));
    await rename(tmp, join(this.dir, 'index.json'));
  }

  /** The cached file for this song if present and intact; a corrupt entry is removed. */
  async lookup(song: { sha256: string; size: number; name: string }): Promise<string | null> {
    const index = await this.load();
    const path = this.pathFor(song.sha256);
    const size = await fileSize(path);
    if (size === null) return null;
    if (size !== song.size || (await sha256File(path)) !== song.sha256) {
      await rm(path, { force: true });
      delete index[song.sha256];
      await this.save();
      return null;
    }
    index[song.sha256] = { name: song.name, size, lastUsed: Date.now() };
    await this.save();
    return path;
  }

  /** Bytes of an interrupted download of this song (0 if none). */
  async partialSize(sha256: string): Promise<number> {
    await this.load();
    return (await fileSize(this.partPathFor(sha256))) ?? 0;
  }

  async discardPartial(sha256: string): Promise<void> {
    await rm(this.partPathFor(sha256), { force: true });
  }

  /** Verifies a finished download and makes it a cache entry. Throws HASH_MISMATCH (and drops the bytes) if it is not the song. */
  async commit(song: { sha256: string; size: number; name: string }): Promise<string> {
    const index = await this.load();
    const part = this.partPathFor(song.sha256);
    const digest = await sha256File(part);
    if (digest !== song.sha256) {
      await rm(part, { force: true });
      throw new AudioLabError('AUDIOLAB_ERR_HASH_MISMATCH', `Downloaded ${song.name} has sha256 ${digest}, the catalog says ${song.sha256}`, { song: song.name });
    }
    const path = this.pathFor(song.sha256);
    await rename(part, path);
    index[song.sha256] = { name: song.name, size: song.size, lastUsed: Date.now() };
    await this.evict(song.sha256);
    await this.save();
    return path;
  }

  /** Removes least-recently-used entries until the cache fits (never `keep`). */
  private async evict(keep: string): Promise<void> {
    const index = await this.load();
    let total = Object.values(index).reduce((s, e) => s + e.size, 0);
    const byAge = Object.entries(index).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [sha, e] of byAge) {
      if (total <= this.maxBytes) break;
      if (sha === keep) continue;
      await rm(this.pathFor(sha), { force: true });
      delete index[sha];
      total -= e.size;
    }
  }

  async entries(): Promise<Array<IndexEntry & { sha256: string }>> {
    const index = await this.load();
    return Object.entries(index).map(([sha256, e]) => ({ sha256, ...e }));
  }
}

function isIndex(v: unknown): v is Record<string, IndexEntry> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  return Object.entries(v).every(([sha, e]) => /^[0-9a-f]{64}$/.test(sha) && typeof e === 'object' && e !== null
    && typeof (e as IndexEntry).size === 'number' && typeof (e as IndexEntry).lastUsed === 'number' && typeof (e as IndexEntry).name === 'string');
}

async function fileSize(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch {
    return null;
  }
}
