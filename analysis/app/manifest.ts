/** The lab's manifest (lab.json): which host is which, the run, the impairments. */
import { dirname, join } from 'node:path';

// not an ES import, which would evaluate every export of node:fs on the analyze path (docs/analysis.md, Speed)
const { existsSync, readFileSync } = process.getBuiltinModule('node:fs');

/** One host of the lab: its role (server, client-a, client-b, listener…) and where it was. */
export interface LabHost {
  role: string;
  ip: string;
  mac: string | null;
  interface?: string;
  /** TSO/GSO/GRO: `off` on every lab interface. */
  offloads?: string;
}

export interface LabImpairments {
  profile: string;
  applied: string[];
  /** What this kernel could not do (no netem, for one). */
  unavailable: string[];
}

/**
 * The lab's manifest, runs/<id>/lab.json: the one definition, built by both runtimes (lab/), read
 * by the analysis, checked by the tests. Docs: docs/lab.md.
 */
export interface LabManifest {
  runId: string;
  runtime: 'docker' | 'local';
  started: string | null;
  ended: string | null;
  network?: { name: string; subnet: string };
  hosts: LabHost[];
  kernel?: string | null;
  machine?: { hostname: string; kernel: string; node: string };
  /** The capture: tool, interface, filter, snap length; the Docker sidecar adds tcpdump's version. */
  capture: Record<string, string | number> | null;
  impairments: LabImpairments;
  /** Where the capture sits and what it can therefore see of each impairment, in words (capturePoint()). */
  capturePoint?: string;
  scenario: string[];
  recordings: string[];
  ok?: boolean;
  failures?: string[];
  /** Docker only, added by the wrapper: image ids and sizes, engine and Compose versions, wall time. */
  images?: Record<string, { id: string; sizeBytes: number }>;
  docker?: { engine: string | null; compose: string | null; baseImage: string };
  wallSeconds?: number;
}

/**
 * Where the capture sits, and what that means for each impaired link: the Docker lab captures in the
 * server's network namespace, so a link's loss shows as the server's retransmissions toward that
 * client and the client's duplicate ACKs; the local lab captures on loopback, where both ends of
 * every connection are seen.
 */
export function capturePoint(m: Pick<LabManifest, 'runtime' | 'capture' | 'impairments'>): string {
  const iface = m.capture?.interface ? ` (interface ${m.capture.interface})` : '';
  if (m.runtime === 'local') return `The capture runs on the loopback interface${iface}: it sees both ends of every connection, each packet once.`;
  const where = `The capture sits at the server, in its network namespace${iface}: it sees every packet the server sends or receives, as the server sends or receives it.`;
  const links = m.impairments.applied.map((a) => {
    const [role, what] = a.includes(': ') ? [a.slice(0, a.indexOf(': ')), a.slice(a.indexOf(': ') + 2)] : ['a client', a];
    return ` ${role}'s link is impaired (${what}): a segment the server sends that is lost on that link is in the capture, and its loss shows as the server's retransmission and ${role}'s duplicate ACKs; a segment ${role} sends that is lost never reaches the capture, which sees only its retransmission.`;
  });
  return where + links.join('');
}

/** Reads a manifest file (throws if it cannot be read or is not JSON). */
export function readManifest(path: string): LabManifest {
  return JSON.parse(readFileSync(path, 'utf8')) as LabManifest;
}

/** Reads lab.json next to the capture (the lab writes it there), if any; standard input (`-`) has none. */
export function findManifest(capture: string): LabManifest | null {
  if (capture === '-') return null;
  const p = join(dirname(capture), 'lab.json');
  if (!existsSync(p)) return null;
  try {
    return readManifest(p);
  } catch {
    return null;
  }
}

/** The manifest given (null: none), or when none was given, the one beside the capture. */
export function manifestFor(capture: string, given: LabManifest | null | undefined): LabManifest | null {
  return given === undefined ? findManifest(capture) : given;
}
