/**
 * Live capture with tcpdump, the same interface as LiveCapture (cap). The local lab uses it when
 * asked (`--capture tcpdump`): tcpdump keeps whole loopback segments (cap's snap length is fixed at
 * 65535 bytes, shorter than loopback's 65536-byte MTU) and the kernel's timestamps.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { AudioLabError } from '../services/errors.ts';
import type { LiveCaptureStats } from './live.ts';

export class TcpdumpCapture {
  readonly iface: string;
  readonly filter: string;
  readonly out: string;
  readonly stats: LiveCaptureStats = { packets: 0, bytes: 0 };
  private child: ChildProcess | undefined;
  private stderr = '';

  constructor(iface: string, filter: string, out: string) {
    this.iface = iface;
    this.filter = filter;
    this.out = out;
  }

  /** Resolves once tcpdump is listening (the file header is written with -U as packets come). */
  async start(): Promise<void> {
    const child = spawn('tcpdump', ['-i', this.iface, '-s', '0', '-B', '65536', '-U', '--immediate-mode', '-n', '-w', this.out, this.filter], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      child.on('error', (e) => reject(new AudioLabError('AUDIOLAB_ERR_CAPTURE_UNAVAILABLE', `cannot run tcpdump: ${e.message}`)));
      child.stderr!.on('data', (c: Buffer) => {
        this.stderr += c.toString();
        if (this.stderr.includes('listening on')) resolve();
      });
      child.on('exit', (code) => reject(new AudioLabError('AUDIOLAB_ERR_CAPTURE_UNAVAILABLE', `tcpdump exited (${code}): ${this.stderr.trim()}`)));
    });
  }

  /** Stops once the last packets are read (immediate mode: no packets wait in a half-filled ring block); tcpdump flushes and closes the file. */
  async stop(): Promise<LiveCaptureStats> {
    const child = this.child;
    if (!child || child.exitCode !== null) return this.stats;
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    await once(child, 'exit');
    const m = /(\d+) packets? captured/.exec(this.stderr);
    if (m) this.stats.packets = Number(m[1]);
    return this.stats;
  }
}
