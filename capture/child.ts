/**
 * `cap` (LiveCapture) in a child process (`audiolab capture`), with the same interface. The lab
 * captures this way: cap's native code aborts its whole process on an unexpected poll error (an
 * `assert` in its binding), and a capture problem must not take the lab (or a test) down with it —
 * the lab reports a failed capture instead, with the child's own words.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessCapture } from './process.ts';

const BIN = join(resolve(fileURLToPath(new URL('..', import.meta.url))), 'bin/audiolab.mjs');

export class ChildCapture extends ProcessCapture {
  constructor(iface: string, filter: string, out: string) {
    super(iface, filter, out, {
      name: 'the capture process', command: process.execPath, args: [BIN, 'capture', '-i', iface, '-f', filter, '-o', out],
      env: { ...process.env, CI: '1' }, ready: 'capturing on', count: /captured (\d+) packets/,
      settleMs: 0, // `audiolab capture` waits for the last packets itself
    });
  }
}
