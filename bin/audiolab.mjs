#!/usr/bin/env node
/**
 * Entry point of the `audiolab` command (`bin/audiolab.mjs`, `npm run audiolab --`, or `audiolab`
 * after `npm link`). With cli/, the only place that sets the exit code.
 *
 * The sources are TypeScript that Node 24 runs directly (type stripping). Under another `node`,
 * this file (plain JavaScript, so any Node can parse it) runs itself again with the Node 24 that
 * setup installed (bin/node24.mjs), or stops with a coded error naming the command to run. The
 * compile cache keeps stripped and compiled modules between runs.
 */
import module from 'node:module';

if (Number(process.versions.node.split('.')[0]) !== 24) {
  // loaded only here: a Node 24 start imports nothing it does not use
  const { findNode24, notSetUp, runUnderNode24 } = await import('./node24.mjs');
  const { fileURLToPath } = await import('node:url');
  const node = findNode24();
  if (!node || process.env.AUDIOLAB_REEXEC) notSetUp();
  runUnderNode24(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)]);
} else {
  module.enableCompileCache?.();
  // `audiolab analyze x --json - | head`: the reader went away, which is not an error of ours
  process.stdout.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const { main } = await import('../cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
