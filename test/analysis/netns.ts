/**
 * Makes real captures for the analysis tests: two network namespaces joined by a veth pair
 * (offloads off, so segments are wire-sized), tcpdump in the receiver's namespace, and impairments
 * that this kernel has: iptables `statistic` loss in the receiver's INPUT chain, tbf rate limits.
 * Addresses are in 198.18.0.0/15 (the benchmarking range), on our own namespaces only.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { ROOT } from '../helpers.ts';

const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const ip = (...args: string[]): string => sh('ip', args);
const inNs = (ns: string, cmd: string, args: string[]): string => sh('ip', ['netns', 'exec', ns, cmd, ...args]);

export interface NetPair {
  a: string; // namespace names
  b: string;
  ipA: string;
  ipB: string;
  ifB: string;
  destroy(): void;
}

let counter = 0;

export function makePair(options: { lossEveryNth?: number; rateKbit?: number; delayMs?: number; ipv6?: boolean; offloads?: boolean } = {}): NetPair {
  const id = `${process.pid % 10000}-${counter++}`;
  const a = `al-a-${id}`;
  const b = `al-b-${id}`;
  const ifA = `ala${id}`.slice(0, 15);
  const ifB = `alb${id}`.slice(0, 15);
  const subnet = 100 + (counter % 100);
  // IPv6: the documentation prefix 2001:db8::/32, on our own namespaces only
  const ipA = options.ipv6 ? `2001:db8:18:${subnet}::1` : `198.18.${subnet}.1`;
  const ipB = options.ipv6 ? `2001:db8:18:${subnet}::2` : `198.18.${subnet}.2`;
  ip('netns', 'add', a);
  ip('netns', 'add', b);
  ip('link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB);
  ip('link', 'set', ifA, 'netns', a);
  ip('link', 'set', ifB, 'netns', b);
  if (options.ipv6) {
    inNs(a, 'ip', ['-6', 'addr', 'add', `${ipA}/64`, 'dev', ifA, 'nodad']);
    inNs(b, 'ip', ['-6', 'addr', 'add', `${ipB}/64`, 'dev', ifB, 'nodad']);
  } else {
    inNs(a, 'ip', ['addr', 'add', `${ipA}/24`, 'dev', ifA]);
    inNs(b, 'ip', ['addr', 'add', `${ipB}/24`, 'dev', ifB]);
  }
  for (const [ns, iff] of [[a, ifA], [b, ifB]] as const) {
    inNs(ns, 'ip', ['link', 'set', 'lo', 'up']);
    inNs(ns, 'ip', ['link', 'set', iff, 'up']);
    if (!options.offloads) inNs(ns, 'ethtool', ['-K', iff, 'tso', 'off', 'gso', 'off', 'gro', 'off']);
  }
  if (options.lossEveryNth) {
    // drop in the receiver's INPUT chain: a drop in the sender's OUTPUT would be re-sent at once
    inNs(b, options.ipv6 ? 'ip6tables' : 'iptables', ['-A', 'INPUT', '-p', 'tcp', '-m', 'statistic', '--mode', 'nth', '--every', String(options.lossEveryNth), '--packet', '0', '-j', 'DROP']);
  }
  if (options.rateKbit) {
    inNs(a, 'tc', ['qdisc', 'add', 'dev', ifA, 'root', 'tbf', 'rate', `${options.rateKbit}kbit`, 'burst', '16kb', 'latency', `${options.delayMs ?? 50}ms`]);
  }
  return {
    a, b, ipA, ipB, ifB,
    destroy() {
      try { ip('netns', 'del', a); } catch { /* already gone */ }
      try { ip('netns', 'del', b); } catch { /* already gone */ }
    },
  };
}

/**
 * Starts tcpdump in namespace `ns` on `iface` (or any), resolving once it is really listening.
 * A 64 MiB buffer and no --immediate-mode: with immediate mode tcpdump wakes per packet and the
 * kernel drops thousands of packets at loopback speeds (seen with -i any). Packets reach tcpdump in
 * blocks retired after at most 1 s, so stop() waits longer than that before SIGINT.
 */
export async function startCapture(ns: string, iface: string, file: string, filter = 'tcp'): Promise<{ stop(): Promise<void> }> {
  const p = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', iface, '-B', '65536', '-U', '-Z', 'root', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    p.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      if (err.includes('listening on')) resolve();
    });
    p.on('exit', () => reject(new Error(`tcpdump exited: ${err}`)));
  });
  return {
    async stop() {
      await new Promise((r) => setTimeout(r, 1200));
      p.kill('SIGINT');
      if (p.exitCode === null) await once(p, 'exit');
    },
  };
}

const PEER = join(ROOT, 'test/analysis/tcp-peer.ts');

export function peer(ns: string, args: string[]): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, process.execPath, PEER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs a transfer A→B of `bytes` while capturing in B; returns when the capture file is complete. */
export async function captureTransfer(pair: NetPair, file: string, bytes: number, serveArgs: string[] = [], sendArgs: string[] = [], port = 7000): Promise<void> {
  const cap = await startCapture(pair.b, pair.ifB, file);
  const server = peer(pair.b, ['serve', String(port), '--once', ...serveArgs]);
  await new Promise<void>((resolve) => server.stdout!.on('data', (c: Buffer) => { if (c.toString().includes('listening')) resolve(); }));
  const client = peer(pair.a, ['send', pair.ipB, String(port), String(bytes), ...sendArgs]);
  const [code] = (await once(client, 'exit')) as [number];
  if (code !== 0) throw new Error(`sender failed (${code})`);
  // the receiver exits once the connection is fully closed (FIN both ways), retransmissions included
  if (server.exitCode === null) await Promise.race([once(server, 'exit'), new Promise((r) => setTimeout(r, 20_000))]);
  server.kill();
  await cap.stop();
}
