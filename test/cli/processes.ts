/** The audiolab command as a child process a test drives: its output as it comes, signals, its exit. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { once } from 'node:events';
import { connect as netConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import { ROOT } from '../helpers.ts';

export interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first match of `re` in its output (stdout and stderr as they came), from `mark` on. */
  waitFor: (re: RegExp, timeoutMs?: number, from?: number) => Promise<RegExpMatchArray>;
  /** Where its output stands now: waitFor(re, ms, mark()) sees only what comes after. */
  mark: () => number;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Writes a line to its stdin. */
  type: (line: string) => void;
}

const running = new Set<ChildProcess>();

/** Starts `audiolab ARGS`; stdin is a pipe (`stdin: 'ignore'` gives /dev/null). */
export function audiolabProc(args: string[], options: { stdin?: 'pipe' | 'ignore'; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Proc {
  const child = spawn(process.execPath, [join(ROOT, 'bin/audiolab.mjs'), ...args], {
    stdio: [options.stdin ?? 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, CI: '1', ...options.env },
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  running.add(child);
  let out = '';
  let err = '';
  let all = '';
  const watchers = new Set<() => void>();
  const changed = (): void => { for (const w of [...watchers]) w(); };
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); all += d.toString(); changed(); });
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); all += d.toString(); changed(); });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => { running.delete(child); changed(); resolve({ code, signal }); });
  });
  const waitFor = (re: RegExp, timeoutMs = 20_000, from = 0): Promise<RegExpMatchArray> => new Promise((resolve, reject) => {
    const check = (): void => {
      const m = all.slice(from).match(re);
      if (m) {
        watchers.delete(check);
        clearTimeout(timer);
        resolve(m);
      } else if (child.exitCode !== null || child.signalCode !== null) {
        watchers.delete(check);
        clearTimeout(timer);
        reject(new Error(`exited before ${re}: stdout ${out}\nstderr ${err}`));
      }
    };
    const timer = setTimeout(() => { watchers.delete(check); reject(new Error(`no ${re} within ${timeoutMs} ms: stdout ${out}\nstderr ${err}`)); }, timeoutMs);
    watchers.add(check);
    check();
  });
  return { child, stdout: () => out, stderr: () => err, waitFor, mark: () => all.length, exit, type: (line) => child.stdin?.write(line + '\n') };
}

/** `audiolab server` on an ephemeral loopback port, ready once it logs server.listen. */
export async function serverProc(musicDir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ proc: Proc; address: string }> {
  const proc = audiolabProc(['server', '--port', '0', '--host', '127.0.0.1', '--music', musicDir, ...extra], { env });
  const m = await proc.waitFor(/"server\.listen".*?"port":(\d+)/);
  return { proc, address: `127.0.0.1:${m[1]}` };
}

/** Kills whatever a test left running. */
export function killAll(): void {
  for (const c of running) c.kill('SIGKILL');
  running.clear();
}

/**
 * A TCP proxy to a loopback port that passes one direction's bytes at `bytesPerSecond`: the
 * server's (`down`: a download that takes seconds, as over a slow link) or the client's (`up`: a
 * slow sender). When either side closes, so does the other.
 */
export async function throttleProxy(port: number, bytesPerSecond: number, direction: 'down' | 'up' = 'down'): Promise<{ address: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((c) => {
    const up = netConnect(port, '127.0.0.1');
    for (const s of [c, up]) { sockets.add(s); s.on('error', () => {}); s.on('close', () => sockets.delete(s)); }
    const [from, to] = direction === 'down' ? [up, c] : [c, up];
    to.pipe(from);
    from.on('data', (d: Buffer) => {
      from.pause();
      to.write(d);
      setTimeout(() => from.resume(), (d.length / bytesPerSecond) * 1000);
    });
    up.on('close', () => c.destroy());
    c.on('close', () => up.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
