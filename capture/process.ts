/**
 * A capture that runs as a separate process: started, ready once it says so on stderr, stopped
 * with SIGINT (the process flushes and closes its file), its packet count read from what it prints.
 * The lab's two capture tools are this with different commands (tcpdump.ts, child.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { AudioLabError } from '../services/protocol/errors.ts';
import type { LiveCaptureStats } from './live.ts';

export interface CaptureProcessSpec {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Printed once the capture is running. */
  ready: string;
  /** Finds the packet count in the process's output once it has stopped. */
  count: RegExp;
  /** Waited before SIGINT, so the last packets reach the file. */
  settleMs: number;
  name: string;
}

export class ProcessCapture {
  readonly iface: string;
  readonly filter: string;
  readonly out: string;
  readonly stats: LiveCaptureStats = { packets: 0, bytes: 0 };
  private readonly spec: CaptureProcessSpec;
  private child: ChildProcess | undefined;
  private output = '';

  constructor(iface: string, filter: string, out: string, spec: CaptureProcessSpec) {
    this.iface = iface;
    this.filter = filter;
    this.out = out;
    this.spec = spec;
  }

  /** Resolves once the capture is running. */
  async start(): Promise<void> {
    const { command, args, env, ready, name } = this.spec;
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    this.child = child;
    child.stdout!.on('data', (c: Buffer) => { this.output += c.toString(); });
    await new Promise<void>((resolve, reject) => {
      child.on('error', (e) => reject(new AudioLabError('AUDIOLAB_ERR_CAPTURE_UNAVAILABLE', `cannot run ${name}: ${e.message}`)));
      child.stderr!.on('data', (c: Buffer) => {
        this.output += c.toString();
        if (this.output.includes(ready)) resolve();
      });
      child.on('exit', (code, signal) => reject(new AudioLabError('AUDIOLAB_ERR_CAPTURE_UNAVAILABLE', `${name} ended (${signal ?? code}) before capturing: ${this.output.trim()}`)));
    });
  }

  /** Stops the capture; the file is complete and valid. Throws if the process failed. */
  async stop(): Promise<LiveCaptureStats> {
    const child = this.child;
    if (!child) return this.stats;
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise((r) => setTimeout(r, this.spec.settleMs));
      child.kill('SIGINT');
      await once(child, 'exit');
    }
    const m = this.spec.count.exec(this.output);
    if (!m) throw new AudioLabError('AUDIOLAB_ERR_CAPTURE_UNAVAILABLE', `${this.spec.name} failed (${child.signalCode ?? child.exitCode}): ${this.output.trim().slice(-500)}`);
    this.stats.packets = Number(m[1]);
    return this.stats;
  }
}
