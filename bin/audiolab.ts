#!/usr/bin/env node
/**
 * Entry point of the `audiolab` command. Node 24 runs the TypeScript sources directly (type
 * stripping); the compile cache keeps the stripped and compiled modules between runs, which cuts
 * start-up from ~350 ms to ~120 ms.
 */
import module from 'node:module';

module.enableCompileCache?.();
process.on('SIGPIPE', () => process.exit(0));
const { main } = await import('../services/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
