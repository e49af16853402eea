/**
 * The fan-out bench: how many real-time listeners one server holds, ours beside Icecast in the same
 * run. Both are driven by the same generator (bench/fanout-gen.c, built here with the C compiler):
 * N listeners opened over 5 s, each reading at a sound card's pace. Icecast serves one live PCM
 * mount fed in real time; ours serves a 2-minute PCM song to each listener. Levels rise until both
 * servers stall (or the last level); each level starts each server afresh.
 */
import { spawn, execFileSync } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { encodeToBuffer, CURRENT_VERSION } from '../services/protocol/index.ts';
import { freePort, log, procStats, ROOT, startServerProcess, tempDir, writeBigWav, type Row } from './lib.ts';

const RATE = 176_400;
const SONG_SECONDS = 120;

/** The generator's one line of JSON. */
export interface GenResult {
  n: number; open: number; dropped: number; stalled: number; underran: number;
  minRatio: number; p10Ratio: number; medianRatio: number; cpuSeconds: number; elapsedMs: number;
}

export interface LevelResult {
  server: 'icecast' | 'audiolab';
  n: number;
  stalled: number;
  dropped: number;
  /** Listeners whose play-out buffer ran dry at least once (after playback started). */
  underran: number;
  /** Server CPU over the measuring window, % of one core. */
  cpuPercent: number;
  /** Peak resident memory of the server process. */
  rssMB: number;
  /** The generator's CPU over its whole run, % of one core. */
  generatorCpuPercent: number;
  /** Tenth percentile and median of received / real time over the window. */
  p10Ratio: number;
  medianRatio: number;
  kernel: KernelDelta;
  /** Underruns of one `audiolab play --realtime` beside the listeners (ours only; null: it failed). */
  probeUnderruns?: number | null;
  /** Underruns of one `audiolab listen --realtime` receiving a play-on beside the listeners (null: it failed). */
  listenUnderruns?: number | null;
}

interface Timing { rampMs: number; warmMs: number; windowMs: number }

/** Finds a program on the PATH (and in the sbin directories Debian puts daemons in). */
function which(cmd: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin']) {
    try {
      execFileSync('test', ['-x', join(dir, cmd)]);
      return join(dir, cmd);
    } catch { /* not here */ }
  }
  return null;
}

/** Compiles bench/fanout-gen.c into `dir`; returns the binary's path. */
export async function buildGenerator(dir: string): Promise<string> {
  const cc = which('gcc') ?? which('cc');
  if (!cc) throw new Error('the fan-out bench needs a C compiler (gcc) to build its listener generator: run bash scripts/setup.sh');
  const out = join(dir, 'fanout-gen');
  execFileSync(cc, ['-O2', '-Wall', '-o', out, join(ROOT, 'bench/fanout-gen.c')], { stdio: 'inherit' });
  return out;
}

/** Runs the generator against host:port and samples the server's CPU over the window and its peak RSS. */
async function drive(gen: string, port: number, serverPid: number, n: number, preamble: string, t: Timing): Promise<Omit<LevelResult, 'server'>> {
  const child = spawn(gen, ['127.0.0.1', String(port), String(n), String(t.rampMs), String(t.warmMs), String(t.windowMs), preamble], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  const started = Date.now();
  const k0 = await kernelTcp();
  let peakTcpPages = k0.memPages;
  let peakRss = 0;
  let cpuAtStart: number | null = null;
  let cpuAtEnd: number | null = null;
  const winStart = t.rampMs + t.warmMs;
  const winEnd = winStart + t.windowMs;
  const sampler = setInterval(() => {
    void kernelTcp().then((k) => { peakTcpPages = Math.max(peakTcpPages, k.memPages); }, () => {});
    void procStats(serverPid).then((s) => {
      peakRss = Math.max(peakRss, s.rssBytes);
      const at = Date.now() - started;
      if (cpuAtStart === null && at >= winStart) cpuAtStart = s.cpuSeconds;
      if (at < winEnd) cpuAtEnd = s.cpuSeconds;
      log(`  ${n} listeners: ${(at / 1000).toFixed(0)} s of ${(winEnd / 1000).toFixed(0)} s, server RSS ${(s.rssBytes / 2 ** 20).toFixed(0)} MiB`);
    }).catch(() => { /* the server is gone: the generator counts the drops */ });
  }, 250);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`fanout-gen exited with ${code}`);
  const g = JSON.parse(out.trim()) as GenResult;
  const kernel = kernelDelta(k0.counters, (await kernelTcp()).counters, peakTcpPages);
  const cpu = cpuAtStart !== null && cpuAtEnd !== null ? (cpuAtEnd - cpuAtStart) / (t.windowMs / 1000) * 100 : 0;
  return {
    n, stalled: g.stalled, dropped: g.dropped, underran: g.underran, cpuPercent: cpu, rssMB: peakRss / 2 ** 20,
    generatorCpuPercent: g.cpuSeconds / (g.elapsedMs / 1000) * 100, p10Ratio: g.p10Ratio, medianRatio: g.medianRatio, kernel,
  };
}

/** Kernel TCP counters (/proc/net/netstat and snmp, as nstat shows them) and the TCP memory in use (/proc/net/sockstat, pages). */
async function kernelTcp(): Promise<{ counters: Record<string, number>; memPages: number }> {
  const counters: Record<string, number> = {};
  for (const f of ['/proc/net/netstat', '/proc/net/snmp']) {
    const lines = (await readFile(f, 'utf8')).trim().split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const [prefix, ...names] = lines[i]!.split(/\s+/);
      const values = lines[i + 1]!.split(/\s+/).slice(1);
      names.forEach((n, k) => { counters[`${prefix!.replace(':', '')}${n}`] = Number(values[k]); });
    }
  }
  const memPages = Number(/TCP:.* mem (\d+)/.exec(await readFile('/proc/net/sockstat', 'utf8'))?.[1] ?? 0);
  return { counters, memPages };
}

/** What the kernel did during a level: entered TCP memory pressure, dropped segments a full receive queue could not take, retransmitted. */
export interface KernelDelta { memoryPressures: number; rcvQueueDrops: number; retransmits: number; peakTcpMemMiB: number }

function kernelDelta(a: Record<string, number>, b: Record<string, number>, peakPages: number): KernelDelta {
  const d = (k: string): number => (b[k] ?? 0) - (a[k] ?? 0);
  return { memoryPressures: d('TcpExtTCPMemoryPressures'), rcvQueueDrops: d('TcpExtTCPRcvQDrop'), retransmits: d('TcpRetransSegs'), peakTcpMemMiB: (peakPages * 4096) / 2 ** 20 };
}

// ---- Icecast ---------------------------------------------------------------------------------

function icecastConfig(port: number, dir: string, maxClients: number): string {
  return `<icecast>
  <limits>
    <clients>${maxClients}</clients><sources>2</sources>
    <queue-size>524288</queue-size><client-timeout>30</client-timeout>
    <header-timeout>15</header-timeout><source-timeout>10</source-timeout>
    <burst-on-connect>1</burst-on-connect><burst-size>65535</burst-size>
  </limits>
  <authentication>
    <source-password>bench</source-password><relay-password>bench</relay-password>
    <admin-user>admin</admin-user><admin-password>bench</admin-password>
  </authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>${port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <fileserve>1</fileserve>
  <paths>
    <basedir>/usr/share/icecast2</basedir><logdir>${dir}</logdir><webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot><pidfile>${dir}/icecast.pid</pidfile>
  </paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>2</loglevel></logging>
  <security><chroot>0</chroot></security>
</icecast>
`;
}

/** Icecast refuses to run as root: as root the bench starts it as nobody (setpriv). */
function asUnprivileged(cmd: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [cmd, args];
  return ['setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', cmd, ...args]];
}

/** A live source: PUT /live.wav, then PCM at exactly real time (176.4 kB/s in 10 ms steps). */
async function feedIcecast(port: number): Promise<{ socket: Socket; stop: () => void }> {
  const socket = connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  socket.write(`PUT /live.wav HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic ${Buffer.from('source:bench').toString('base64')}\r\nContent-Type: audio/x-wav\r\nIce-Public: 0\r\nIce-Name: bench\r\n\r\n`);
  await new Promise<void>((resolve, reject) => {
    let reply = '';
    const onData = (c: Buffer): void => {
      reply += c.toString();
      if (!reply.includes('\r\n')) return;
      socket.off('data', onData);
      if (/^HTTP\/1\.[01] 200/.test(reply)) resolve();
      else reject(new Error(`Icecast refused the source: ${reply.split('\r\n')[0]}`));
    };
    socket.on('data', onData);
  });
  socket.on('error', () => { /* the bench stops Icecast under it */ });
  const block = Buffer.alloc(RATE);
  for (let i = 0; i < block.length; i += 2) block.writeInt16LE(Math.round(8000 * Math.sin(i / 40)), i);
  const t0 = performance.now();
  let sent = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) / 1000) * RATE / 4) * 4;
    while (sent < due) {
      const k = Math.min(due - sent, block.length);
      socket.write(block.subarray(0, k));
      sent += k;
    }
  }, 10);
  return { socket, stop: () => { clearInterval(timer); socket.destroy(); } };
}

async function icecastLevel(icecast: string, gen: string, n: number, t: Timing): Promise<LevelResult> {
  const dir = await tempDir('audiolab-icecast-');
  await chmod(dir, 0o777);
  const port = await freePort();
  const conf = join(dir, 'icecast.xml');
  await writeFile(conf, icecastConfig(port, dir, n + 100));
  const [cmd, args] = asUnprivileged(icecast, ['-c', conf]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  try {
    let feed: Awaited<ReturnType<typeof feedIcecast>> | undefined;
    for (let i = 0; !feed; i++) {
      try { feed = await feedIcecast(port); } catch (e) {
        if (i > 100 || child.exitCode !== null) throw new Error(`Icecast did not start: ${err || String(e)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await new Promise((r) => setTimeout(r, 1000)); // a second of audio queued before the first listener
    const preamble = join(dir, 'preamble');
    await writeFile(preamble, 'GET /live.wav HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: fanout-gen\r\n\r\n');
    const r = await drive(gen, port, child.pid!, n, preamble, t);
    feed.stop();
    return { server: 'icecast', ...r };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  }
}

// ---- ours ------------------------------------------------------------------------------------

async function audiolabLevel(musicDir: string, gen: string, n: number, t: Timing, cpuProf?: string): Promise<LevelResult> {
  const server = await startServerProcess(musicDir, ['--max-clients', String(n + 100)], cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : []);
  try {
    const preamble = join(musicDir, '..', 'preamble');
    await writeFile(preamble, Buffer.concat([
      encodeToBuffer({ type: 'HELLO', versions: [CURRENT_VERSION], name: 'listener', software: 'fanout-gen' }),
      // a sound-card player says so (as `audiolab play` does with a device or --realtime)
      encodeToBuffer({ type: 'PLAY', req: 1, song: 'two-minutes.wav', offset: 0, realtime: true }),
    ]));
    // real clients beside the generator's listeners, over the window: `audiolab play --realtime`,
    // and `audiolab listen --realtime` receiving a play-on
    const address = `127.0.0.1:${server.port}`;
    const cli = (args: string[]): { exit: Promise<number | null>; out: () => string; waitFor: (re: RegExp) => Promise<void> } => {
      const c = spawn(process.execPath, [join(ROOT, 'bin/audiolab.mjs'), ...args, '--server', address], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      const waiters: Array<() => void> = [];
      const on = (b: Buffer): void => { text += b.toString(); for (const w of waiters.splice(0)) w(); };
      c.stdout.on('data', on);
      c.stderr.on('data', on);
      const exit = new Promise<number | null>((r) => c.once('exit', (code) => { for (const w of waiters.splice(0)) w(); r(code); }));
      const waitFor = async (re: RegExp): Promise<void> => { while (!re.test(text) && c.exitCode === null) await new Promise<void>((r) => waiters.push(r)); };
      return { exit, out: () => text, waitFor };
    };
    const underruns = async (p: ReturnType<typeof cli>): Promise<number | null> => ((await p.exit) === 0 ? Number(/(\d+) underrun\(s\)/.exec(p.out())?.[1] ?? NaN) : null);
    const atWindow = new Promise((r) => setTimeout(r, t.rampMs + t.warmMs));
    const probe = atWindow.then(() => underruns(cli(['play', 'probe.wav', '--sink', 'null', '--realtime', '--name', 'probe', '--cache', join(musicDir, '..', `cache-${n}`)])));
    const listenProbe = atWindow.then(async () => {
      const l = cli(['listen', '--sink', 'null', '--realtime', '--count', '1', '--name', 'probe-listener']);
      await l.waitFor(/Listening as/);
      await cli(['play-on', 'probe-listener', 'probe.wav', '--name', 'probe-sender']).exit;
      return underruns(l);
    });
    const r = await drive(gen, server.port, server.child.pid!, n, preamble, t);
    return { server: 'audiolab', ...r, probeUnderruns: await probe, listenUnderruns: await listenProbe };
  } finally {
    await server.stop();
  }
}

export async function fanoutBench(o: { quick: boolean; levels?: number[]; cpuProf?: string }): Promise<{ rows: Row[]; notes: string[]; levels: LevelResult[] }> {
  const icecast = which('icecast2') ?? which('icecast');
  const work = await tempDir('audiolab-fanout-');
  const gen = await buildGenerator(work);
  const musicDir = join(work, 'music');
  execFileSync('mkdir', ['-p', musicDir]);
  await writeBigWav(join(musicDir, 'two-minutes.wav'), RATE * SONG_SECONDS + 44);
  await writeBigWav(join(musicDir, 'probe.wav'), RATE * (o.quick ? 6 : 20) + 44);
  const t: Timing = o.quick ? { rampMs: 2000, warmMs: 3000, windowMs: 10_000 } : { rampMs: 5000, warmMs: 5000, windowMs: 30_000 };
  const levels = o.levels ?? (o.quick ? [100, 200] : [400, 800, 1200, 1600, 2000, 2400, 3200, 4800, 6400]);
  const results: LevelResult[] = [];
  const done = { icecast: !icecast, audiolab: false };
  for (const n of levels) {
    if (done.icecast && done.audiolab) break;
    for (const server of ['icecast', 'audiolab'] as const) {
      if (done[server]) continue;
      const r = server === 'icecast' ? await icecastLevel(icecast!, gen, n, t) : await audiolabLevel(musicDir, gen, n, t, o.cpuProf);
      results.push(r);
      console.error(`\r\x1b[2K  ${server} ${n}: ${r.stalled} stalled, ${r.dropped} dropped, ${r.underran} underran (real time received: p10 ${(r.p10Ratio * 100).toFixed(0)} %, median ${(r.medianRatio * 100).toFixed(0)} %), CPU ${r.cpuPercent.toFixed(0)} %, RSS ${r.rssMB.toFixed(1)} MiB, generator ${r.generatorCpuPercent.toFixed(0)} %; kernel: TCP memory ${r.kernel.peakTcpMemMiB.toFixed(0)} MiB, ${r.kernel.memoryPressures} pressure, ${r.kernel.rcvQueueDrops} receive-queue drops, ${r.kernel.retransmits} retransmissions${r.probeUnderruns === undefined ? '' : `; audiolab play --realtime: ${r.probeUnderruns ?? 'failed'} underrun(s), listen --realtime: ${r.listenUnderruns ?? 'failed'}`}`);
      if (r.stalled + r.dropped > 0) done[server] = true;
    }
  }
  const rows: Row[] = [];
  for (const n of levels) {
    const ours = results.find((r) => r.server === 'audiolab' && r.n === n);
    const ref = results.find((r) => r.server === 'icecast' && r.n === n);
    if (!ours) continue;
    rows.push({ bench: `fan-out ${n} listeners`, metric: 'stalled + dropped', ours: ours.stalled + ours.dropped, reference: ref ? ref.stalled + ref.dropped : null, refName: 'Icecast', unit: 'listeners' });
    rows.push({ bench: `fan-out ${n} listeners`, metric: 'server CPU', ours: ours.cpuPercent, reference: ref?.cpuPercent ?? null, refName: 'Icecast', unit: '% of a core' });
    rows.push({ bench: `fan-out ${n} listeners`, metric: 'server RSS', ours: ours.rssMB, reference: ref?.rssMB ?? null, refName: 'Icecast', unit: 'MiB' });
  }
  const notes = [
    `fan-out: ${icecast ? 'Icecast 2 (Debian icecast2) serves one live PCM mount fed in real time' : 'icecast2 is not installed (bash scripts/setup.sh installs it): our server alone'}; ours serves a 2-minute PCM song to each listener, asked for as a real-time PLAY (sent at the song's pace, REALTIME_LEAD_MS ahead). The generator (bench/fanout-gen.c) opens N listeners over ${t.rampMs / 1000} s, each reading 176.4 kB/s through a 64 KiB play-out buffer; a listener stalled when it received under 90 % of real time over the ${t.windowMs / 1000} s window.`,
  ];
  return { rows, notes, levels: results };
}

/** The fan-out table for docs/benchmarks.md: one row per level and server. */
export function fanoutTable(levels: LevelResult[]): string {
  const lines = [
    '| N | server | stalled | dropped | underran | server CPU | server RSS | generator CPU | kernel: TCP memory (peak), pressure, receive-queue drops, retransmissions | underruns of `play --realtime`, `listen --realtime` |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const l of [...levels].sort((x, y) => x.n - y.n || x.server.localeCompare(y.server))) {
    const k = l.kernel;
    lines.push(`| ${l.n} | ${l.server === 'icecast' ? 'Icecast' : 'audiolab'} | ${l.stalled} | ${l.dropped} | ${l.underran} | ${l.cpuPercent.toFixed(0)} % | ${l.rssMB.toFixed(1)} MiB | ${l.generatorCpuPercent.toFixed(0)} % | ${k.peakTcpMemMiB.toFixed(0)} MiB, ${k.memoryPressures}, ${k.rcvQueueDrops}, ${k.retransmits} | ${l.probeUnderruns === undefined ? '—' : `${l.probeUnderruns ?? 'failed'}, ${l.listenUnderruns ?? 'failed'}`} |`);
  }
  return lines.join('\n');
}
