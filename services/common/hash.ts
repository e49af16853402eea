/** The one file-hash helper: a file's size, sha256 and, on request, its first bytes, in one read. */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

export interface FileDigest { size: number; sha256: string; head: Buffer }

/** Size and sha256 of a file, and its first `headBytes` bytes (for a WAV header). */
export async function fileDigest(path: string, headBytes = 0): Promise<FileDigest> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(Math.min(size, headBytes));
    if (head.length > 0) await fh.read(head, 0, head.length, 0);
    const hash = createHash('sha256');
    for await (const chunk of fh.createReadStream({ autoClose: false, start: 0 })) hash.update(chunk as Buffer);
    return { size, sha256: hash.digest('hex'), head };
  } finally {
    await fh.close();
  }
}

/** The sha256 of a file, hex. */
export async function sha256File(path: string): Promise<string> {
  return (await fileDigest(path)).sha256;
}
