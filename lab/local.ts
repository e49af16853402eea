/**
 * The lab without Docker: the server and both clients run as local processes on loopback addresses
 * (server 127.0.0.10, client-a .11, client-b .12), the traffic is captured live with `cap`, and the
 * run is analysed. Same `runs/<run-id>/` layout as the Docker lab.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { release, hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ChildCapture } from '../capture/child.ts';
import { TcpdumpCapture } from '../capture/tcpdump.ts';
import { analyzeWithApp, type FullAnalysis } from '../analysis/app/index.ts';
import { writeReport } from '../analysis/report/report.ts';
import { writeAnnotatedCapture } from './annotate.ts';
import { capturePoint, type LabManifest } from '../analysis/app/manifest.ts';
import { newRunId, pointLatest } from './runs.ts';
import { AudioLabError } from '../services/protocol/errors.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BIN = join(ROOT, 'bin/audiolab.mjs');

export const LOCAL_HOSTS = { server: '127.0.0.10', 'client-a': '127.0.0.11', 'client-b': '127.0.0.12' } as const;

export interface LocalLabOptions {
  runsDir: string;
  port?: number;
  musicDir?: string;
  /**
   * tcpdump (whole loopback segments, kernel timestamps), cap (libpcap from Node: its snap length is
   * fixed at 65535 bytes, shorter than a loopback frame can be), or auto (the default): tcpdump
   * when it can capture here, else cap, saying what that costs.
   */
  capture?: 'auto' | 'cap' | 'tcpdump';
  onStep?: (message: string) => void;
}

export interface LocalLabResult {
  ok: boolean;
  runDir: string;
  capture: string;
  failures: string[];
  analysis: FullAnalysis;
}

function spawnAudiolab(args: string[], env: NodeJS.ProcessEnv, log: string): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => chunks.push(c));
  child.stderr!.on('data', (c: Buffer) => chunks.push(c));
  child.on('exit', () => { void writeFile(log, Buffer.concat(chunks)); });
  return child;
}

async function waitForPort(host: string, port: number, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect({ host, port }, () => { s.destroy(); r(true); });
      s.on('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new AudioLabError('AUDIOLAB_ERR_TIMEOUT', `server did not open ${host}:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const exitCode = async (c: ChildProcess): Promise<number> => (c.exitCode ?? (await once(c, 'exit'))[0]) as number;

export async function runLocalLab(o: LocalLabOptions): Promise<LocalLabResult> {
  const say = o.onStep ?? (() => {});
  const port = o.port ?? 5050;
  const runId = newRunId();
  const runDir = join(o.runsDir, runId);
  const recordings = join(runDir, 'recordings');
  const serverMusic = join(runDir, 'server-music');
  const logs = join(runDir, 'logs');
  await mkdir(recordings, { recursive: true });
  await mkdir(logs, { recursive: true });
  await cp(o.musicDir ?? join(ROOT, 'music'), serverMusic, { recursive: true, filter: (s) => !s.endsWith('.ts') });
  const started = new Date();
  const capturePath = join(runDir, 'capture.pcap');
  const filter = `tcp port ${port} and host ${LOCAL_HOSTS.server}`;
  const asked = o.capture ?? 'auto';
  let tool: 'cap' | 'tcpdump' = asked === 'cap' ? 'cap' : 'tcpdump';
  let cap: TcpdumpCapture | ChildCapture = tool === 'tcpdump' ? new TcpdumpCapture('lo', filter, capturePath) : new ChildCapture('lo', filter, capturePath);
  const failures: string[] = [];
  const notes: string[] = [];
  const server = spawnAudiolab(['server', '--host', LOCAL_HOSTS.server, '--port', String(port), '--music', serverMusic], {}, join(logs, 'server.log'));
  try {
    await waitForPort(LOCAL_HOSTS.server, port);
    say(`server up on ${LOCAL_HOSTS.server}:${port}`);
    // capture from before the first client's SYN (the readiness probes above stay out of it)
    try {
      await cap.start();
    } catch (err) {
      if (asked !== 'auto') throw err;
      // no tcpdump, or no permission to capture with it: cap, and the cost said where it shows
      tool = 'cap';
      cap = new ChildCapture('lo', filter, capturePath);
      await cap.start();
      const note = `tcpdump could not capture here (${(err as Error).message.split('\n')[0]}): captured with cap, whose snap length is 65535 bytes, so a loopback frame longer than that (up to 65550) loses its last bytes and the report shows holes; install tcpdump (or run as root) for a complete capture`;
      notes.push(note);
      say(note);
    }
    say(`capturing loopback into ${capturePath}`);
    const env = (name: string): NodeJS.ProcessEnv => ({
      AUDIOLAB_SERVER: `${LOCAL_HOSTS.server}:${port}`, AUDIOLAB_RECORDINGS: recordings, AUDIOLAB_CACHE: join(runDir, 'cache', name),
    });
    const scen = (name: 'client-a' | 'client-b'): ChildProcess => spawnAudiolab(
      ['scenario', join(ROOT, 'scenarios', `${name}.json`), '--bind', LOCAL_HOSTS[name], '--report', join(runDir, `${name}.json`)], env(name), join(logs, `${name}.log`));
    const b = scen('client-b');
    say('client-b listening');
    const a = scen('client-a');
    say('client-a running its scenario (list, play, replay from cache, upload, play-on, send-to)');
    const [ca, cb] = await Promise.all([exitCode(a), exitCode(b)]);
    if (ca !== 0) failures.push(`client-a scenario failed (exit ${ca}); see ${join(logs, 'client-a.log')}`);
    if (cb !== 0) failures.push(`client-b scenario failed (exit ${cb}); see ${join(logs, 'client-b.log')}`);
  } finally {
    server.kill('SIGTERM');
    await exitCode(server);
    await cap.stop().catch((err: unknown) => { failures.push(`capture failed: ${(err as Error).message}`); });
  }
  await rm(join(runDir, 'cache'), { recursive: true, force: true });
  const manifest: LabManifest = {
    runId, runtime: 'local', started: started.toISOString(), ended: new Date().toISOString(),
    hosts: Object.entries(LOCAL_HOSTS).map(([role, ip]) => ({ role, ip, mac: null })),
    capture: tool === 'tcpdump'
      ? { file: 'capture.pcap', tool: 'tcpdump', interface: 'lo', filter, timestamps: 'kernel', snaplen: 262144, packets: cap.stats.packets }
      : { file: 'capture.pcap', tool: 'cap (libpcap)', interface: 'lo', filter, timestamps: 'arrival in Node (cap does not pass libpcap timestamps)', snaplen: 65535, packets: cap.stats.packets, ...(notes.length ? { note: notes.join('; ') } : {}) },
    machine: { hostname: hostname(), kernel: release(), node: process.version },
    impairments: { profile: 'clean', applied: [], unavailable: [] },
    scenario: ['scenarios/client-b.json', 'scenarios/client-a.json'],
    recordings: (await readdir(recordings, { recursive: true })).map(String),
    ok: failures.length === 0, failures,
  };
  manifest.capturePoint = capturePoint(manifest);
  await writeFile(join(runDir, 'lab.json'), JSON.stringify(manifest, null, 2));
  say('analysing the capture');
  const annotations = new Map<number, string[]>();
  const analysis = analyzeWithApp(capturePath, { manifest, annotations });
  await writeReport(analysis, runDir, capturePath);
  // the same packets with their story in comments, for plain Wireshark (capture.pcap stays as captured)
  writeAnnotatedCapture(capturePath, join(runDir, 'capture.pcapng'), annotations);
  await pointLatest(o.runsDir, runId);
  return { ok: failures.length === 0, runDir, capture: capturePath, failures, analysis };
}
