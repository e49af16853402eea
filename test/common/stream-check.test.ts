import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StreamCheck } from '../../services/common/stream-check.ts';

const bytes = Buffer.from('the quick brown fox jumps over the lazy dog');
const sha = createHash('sha256').update(bytes).digest('hex');
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe('StreamCheck: the one check of an incoming stream', () => {
  it('takes chunks in order and ends with the digest', () => {
    const c = new StreamCheck({ size: bytes.length, sha256: sha });
    c.accept(0, bytes.subarray(0, 10));
    c.accept(10, bytes.subarray(10));
    expect(c.finish(bytes.length)).toBe(sha);
  });

  it('refuses a chunk out of order, and one past the declared size', () => {
    const c = new StreamCheck({ size: bytes.length, sha256: sha });
    c.accept(0, bytes.subarray(0, 10));
    expect(codeOf(() => c.accept(20, bytes.subarray(20, 30)))).toBe('AUDIOLAB_ERR_BAD_OFFSET');
    expect(codeOf(() => c.accept(10, Buffer.alloc(bytes.length)))).toBe('AUDIOLAB_ERR_SIZE_MISMATCH');
  });

  it('refuses an end before every byte came, a byte count the sender got wrong, and other content', () => {
    const short = new StreamCheck({ size: bytes.length, sha256: sha });
    short.accept(0, bytes.subarray(0, 10));
    expect(codeOf(() => short.finish())).toBe('AUDIOLAB_ERR_SIZE_MISMATCH');
    const miscounted = new StreamCheck({ size: bytes.length, sha256: sha });
    miscounted.accept(0, bytes);
    expect(codeOf(() => miscounted.finish(bytes.length - 1))).toBe('AUDIOLAB_ERR_SIZE_MISMATCH');
    const other = new StreamCheck({ size: bytes.length, sha256: sha });
    other.accept(0, Buffer.alloc(bytes.length, 0x61));
    expect(codeOf(() => other.finish())).toBe('AUDIOLAB_ERR_HASH_MISMATCH');
  });

  it('checks a resumed stream for order and size from its offset; its bytes count from there', () => {
    const c = new StreamCheck({ size: bytes.length, sha256: sha, offset: 10 });
    expect(codeOf(() => c.accept(0, bytes.subarray(0, 10)))).toBe('AUDIOLAB_ERR_BAD_OFFSET');
    c.accept(10, bytes.subarray(10));
    expect(c.finish(bytes.length - 10)).toBeNull();
  });
});
