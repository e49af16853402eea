/**
 * `cap` (LiveCapture) in a child process (`audiolab capture`), with the same interface. The lab
 * captures this way: cap's native code aborts its whole process on an unexpected poll error (an
 * `assert` in its binding), and a capture problem must not take the lab (or a test) down with it —
 * the lab reports a failed capture instead, with the child's own words.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AudioLabError } from '../services/errors.ts';
import type { LiveCaptureStats } from './live.ts';

const BIN = join(resolve(fileURLToPath(new URL('..', import.meta.url))), 'bin/audiolab.ts');

export class ChildCapture {
  readonly iface: string;
  readonly filter: string;
  readonly out: string;
  readonly stats: LiveCaptureStats = { packets: 0, bytes: 0 };
  private child: ChildProcess | undefined;
  private output = '';

  constructor(iface: string, filter: string, out: string) {
    this.iface = iface;
    this.filter = filter;
    this.out = out;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [BIN, 'capture', '-i', this.iface, '-f', this.filter, '-o', this.out], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } });
    this.child = child;
    child.stdout!.on('data', (c: Buffer) => { this.output += c.toString(); });
    await new Promise<void>((ok, fail) => {
      child.stderr!.on('data', (c: Buffer) => {
        this.output += c.toString();
        if (this.output.includes('capturing on')) ok();
      });
      child.on('exit', (code, signal) => fail(new AudioLabError('AUDIOLAB_ERR_CAPTURE_UNAVAILABLE', `the capture process ended (${signal ?? code}) before capturing: ${this.output.trim()}`)));
    });
  }

  /** Stops the capture (SIGINT: the child flushes and closes the file). Throws if the child failed. */
  async stop(): Promise<LiveCaptureStats> {
    const child = this.child;
    if (!child) return this.stats;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      await once(child, 'exit');
    }
    const m = /captured (\d+) packets/.exec(this.output);
    if (!m) throw new AudioLabError('AUDIOLAB_ERR_CAPTURE_UNAVAILABLE', `the capture process failed (${child.signalCode ?? child.exitCode}): ${this.output.trim().slice(-500)}`);
    this.stats.packets = Number(m[1]);
    return this.stats;
  }
}
