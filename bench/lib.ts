/** Shared benchmark helpers: statistics, a server in its own process, /proc readings, tables. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, createServer } from 'node:net';
import { buildWavHeader } from '../services/common/wav.ts';
import { percentile } from '../analysis/tcp/stats.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export function summary(values: number[]): { n: number; median: number; p99: number; mean: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, median: percentile(s, 50), p99: percentile(s, 99), mean: s.reduce((a, b) => a + b, 0) / s.length, min: s[0]!, max: s.at(-1)! };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function tempDir(prefix = 'audiolab-bench-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A WAV of `bytes` bytes of pseudo-random 16-bit stereo audio (fast to make, incompressible). */
export async function writeBigWav(path: string, bytes: number): Promise<void> {
  const data = Math.floor((bytes - 44) / 4) * 4;
  const pcm = Buffer.allocUnsafe(data);
  let x = 12345;
  for (let i = 0; i < data; i += 4) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    pcm.writeUInt32LE(x, i);
  }
  await writeFile(path, Buffer.concat([buildWavHeader({ sampleRate: 44100, channels: 2, bitsPerSample: 16, encoding: 'pcm' }, data), pcm]));
}

export interface ServerProcess {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `audiolab server` in its own process (so the bench's clients do not share its event loop). */
export async function startServerProcess(musicDir: string, extra: string[] = [], nodeFlags: string[] = []): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeFlags, join(ROOT, 'bin/audiolab.mjs'), 'server', '--host', '127.0.0.1', '--port', String(port), '--music', musicDir, '--log-level', 'warn', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect({ port, host: '127.0.0.1' }, () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port, child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** CPU seconds (user+system) and resident memory of a process, from /proc. */
export async function procStats(pid: number): Promise<{ cpuSeconds: number; rssBytes: number }> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  return { cpuSeconds: ticks / 100, rssBytes: rss };
}

export function machine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model.trim() ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

export interface Row {
  bench: string;
  metric: string;
  ours: number;
  reference: number | null;
  refName: string;
  unit: string;
}

export function fmt(n: number | null, unit: string): string {
  if (n === null || Number.isNaN(n)) return '—';
  const v = Number.isInteger(n) ? String(n) : Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);
  return unit ? `${v} ${unit}` : v;
}

export function table(rows: Row[]): string {
  const lines = ['| benchmark | metric | ours | reference | ratio (ours/ref) |', '|---|---|---|---|---|'];
  for (const r of rows) {
    const ratio = r.reference ? (r.ours / r.reference).toFixed(2) : '—';
    lines.push(`| ${r.bench} | ${r.metric} | ${fmt(r.ours, r.unit)} | ${r.reference === null ? '—' : `${fmt(r.reference, r.unit)} (${r.refName})`} | ${ratio} |`);
  }
  return lines.join('\n');
}

export function log(msg: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${msg}`);
}
