/**
 * Whether the lab's images are up to date with what they are built from, so `npm run lab` can skip
 * the build: sending the build context (about 200 MB with node_modules) to the engine takes seconds
 * even when every layer is a cache hit, where a plain `docker compose up` builds nothing.
 *
 * A context's fingerprint covers the path, size and modification time of every file the build
 * sends (its .dockerignore applied, with Docker's rules for the patterns used here), and the base
 * image's id. It is kept in .cache/lab-images.json beside the ids of the images it produced; the
 * build is skipped only when both still match, so any edit, a new base image or an image built by
 * hand means a build.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface ImageContext { dir: string; image: string; baseId: string }

interface Record { fingerprints: string[]; imageIds: string[] }

const STATE = '.cache/lab-images.json';

/** Docker's .dockerignore patterns as tests on a path relative to the context (`*` within one segment). */
function ignoreRules(dir: string): Array<(rel: string) => boolean> {
  const file = join(dir, '.dockerignore');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && !l.startsWith('!')).map((pattern) => {
    const re = new RegExp(`^${pattern.replace(/^\/+|\/+$/g, '').split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}(/|$)`);
    return (rel: string) => re.test(rel);
  });
}

/** The fingerprint of what a build of `dir` would send, with the base image it builds on. */
export function contextFingerprint(ctx: ImageContext): string {
  const ignored = ignoreRules(ctx.dir);
  const hash = createHash('sha256').update(ctx.baseId);
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      const rel = relative(ctx.dir, p);
      if (ignored.some((t) => t(rel))) continue;
      if (e.isDirectory()) walk(p);
      else if (e.isFile() || e.isSymbolicLink()) {
        const st = statSync(p, { throwIfNoEntry: false });
        if (st) hash.update(`${rel}\0${st.size}\0${st.mtimeMs}\n`);
      }
    }
  };
  walk(ctx.dir);
  return hash.digest('hex');
}

/** Whether the images were built by us from exactly these contexts (`imageIds`: their ids now, null if missing). */
export function imagesCurrent(root: string, fingerprints: string[], imageIds: Array<string | null>): boolean {
  const file = join(root, STATE);
  if (!existsSync(file) || imageIds.some((id) => !id)) return false;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as Record;
    return JSON.stringify(r.fingerprints) === JSON.stringify(fingerprints) && JSON.stringify(r.imageIds) === JSON.stringify(imageIds);
  } catch {
    return false;
  }
}

/** Records what a build produced. */
export function recordImages(root: string, fingerprints: string[], imageIds: string[]): void {
  mkdirSync(join(root, '.cache'), { recursive: true });
  writeFileSync(join(root, STATE), JSON.stringify({ fingerprints, imageIds } satisfies Record, null, 1));
}
