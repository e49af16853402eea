/**
 * Small typed arrays carved out of shared 256 KiB blocks: a typed array with a buffer of its own
 * costs far more to allocate than a view on a shared block (its memory lives outside V8's heap and
 * is registered with it), and each direction with data or RTT samples needs two to four arrays
 * (docs/analysis.md, Speed).
 *
 * Memory: a block is freed by the garbage collector once no view into it is left. The arrays come
 * zeroed (each byte of a block is handed out once). Arrays larger than an eighth of a block get
 * their own buffer.
 */
const BLOCK = 256 * 1024;
let block = new ArrayBuffer(0);
let used = 0;

/** Reserves `bytes` (a multiple of 8) in the current block, or starts a new one; returns the offset. */
function reserve(bytes: number): number {
  if (used + bytes > block.byteLength) {
    block = new ArrayBuffer(BLOCK);
    used = 0;
  }
  const at = used;
  used += bytes;
  return at;
}

export function f64(n: number): Float64Array<ArrayBuffer> {
  const bytes = 8 * n;
  if (bytes > BLOCK / 8) return new Float64Array(n);
  const at = reserve(bytes);
  return new Float64Array(block, at, n);
}

export function u32(n: number): Uint32Array<ArrayBuffer> {
  const bytes = (4 * n + 7) & ~7;
  if (bytes > BLOCK / 8) return new Uint32Array(n);
  const at = reserve(bytes);
  return new Uint32Array(block, at, n);
}
