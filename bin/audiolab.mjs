#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.trim_threshold=268435456:glibc.malloc.top_pad=67108864:glibc.malloc.mmap_threshold=268435456 node
/**
 * Entry point of the `audiolab` command (run it as `bin/audiolab.mjs`, `npm run audiolab --`, or as
 * `audiolab` after `npm link`: each goes through the first line).
 *
 * The first line tunes glibc's allocator for this process: memory that V8's compilers and the
 * analysis free is kept for reuse (trim threshold, top pad, mmap threshold) and backed by huge
 * pages. On virtual machines where a page fault is slow (14 µs here, against ~0.2 µs on bare
 * metal) that halves the page faults of `audiolab analyze` on 1M packets (10 000 → 5 500) and
 * takes 9 % off its time; elsewhere it costs nothing but a few MB of resident memory. `node
 * bin/audiolab.mjs` works as well, without the tuning.
 *
 * Node 24 runs the TypeScript sources directly (type
 * stripping), and the compile cache keeps the stripped and compiled modules between runs. This
 * file is plain JavaScript on purpose: an entry point written in TypeScript would load the
 * type stripper (amaro, ~120 ms) before the cache could be switched on; from here, a warm start
 * of `audiolab --version` takes as long as `node -e 0`.
 */
import module from 'node:module';

module.enableCompileCache?.();
// `audiolab analyze x --json - | head`: the reader went away, which is not an error of ours
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { main } = await import('../services/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
