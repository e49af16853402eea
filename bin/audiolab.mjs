#!/usr/bin/env node
/**
 * Entry point of the `audiolab` command. Node 24 runs the TypeScript sources directly (type
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
