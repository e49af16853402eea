/** When `npm run lab` may skip the image build: only when nothing the images are built from changed. */
import { describe, expect, it } from 'vitest';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers.ts';
import { contextFingerprint, imagesCurrent, recordImages } from '../../lab/image-cache.ts';

describe('the lab images\' build context fingerprint', () => {
  it('changes with any file the build sends or the base image, never with what .dockerignore leaves out', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, '.dockerignore'), 'runs\n.cache\n*.md\nnode_modules/.vite\n');
    await mkdir(join(dir, 'services'), { recursive: true });
    await mkdir(join(dir, 'runs/x'), { recursive: true });
    await mkdir(join(dir, 'node_modules/.vite'), { recursive: true });
    await mkdir(join(dir, 'docs'), { recursive: true });
    await writeFile(join(dir, 'services/a.ts'), 'one');
    const ctx = { dir, image: 'x', baseId: 'sha256:1' };
    const f0 = contextFingerprint(ctx);
    // ignored: a run's files, the cache, a top-level .md, node_modules/.vite
    await writeFile(join(dir, 'runs/x/capture.pcap'), 'pcap');
    await writeFile(join(dir, 'README.md'), 'read me');
    await writeFile(join(dir, 'node_modules/.vite/x'), 'v');
    expect(contextFingerprint(ctx)).toBe(f0);
    // sent: a nested .md (the pattern is top-level only, as Docker's), an edit, another base
    await writeFile(join(dir, 'docs/x.md'), 'doc');
    const f1 = contextFingerprint(ctx);
    expect(f1).not.toBe(f0);
    await utimes(join(dir, 'services/a.ts'), new Date(), new Date(Date.now() + 5000));
    const f2 = contextFingerprint(ctx);
    expect(f2).not.toBe(f1);
    expect(contextFingerprint({ ...ctx, baseId: 'sha256:2' })).not.toBe(f2);
  });

  it('counts the images current only with the recorded fingerprints and image ids', async () => {
    const root = await tempDir();
    expect(imagesCurrent(root, ['f'], ['i'])).toBe(false);
    recordImages(root, ['f'], ['i']);
    expect(imagesCurrent(root, ['f'], ['i'])).toBe(true);
    expect(imagesCurrent(root, ['g'], ['i'])).toBe(false); // something changed
    expect(imagesCurrent(root, ['f'], ['j'])).toBe(false); // an image built by someone else
    expect(imagesCurrent(root, ['f'], [null])).toBe(false); // an image removed
  });
});
