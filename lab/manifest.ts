/**
 * The Docker lab's manifest (runs/<id>/lab.json), assembled after the run from what each container
 * recorded about itself (runs/<id>/hosts/*.json: address, MAC, kernel, offloads, impairments; the
 * sidecar: tcpdump's version and filter). The `audiolab lab --runtime docker` wrapper adds what only
 * the host knows (image ids, Docker and Compose versions).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AudioLabError } from '../services/protocol/errors.ts';
import { capturePoint, type LabHost, type LabImpairments, type LabManifest } from '../analysis/app/manifest.ts';

/** What a container recorded about itself in runs/<id>/hosts/<role>.json (capture/netsetup.sh, sidecar.sh). */
interface HostRecord extends LabHost {
  interface: string; kernel: string; offloads: string; at?: string;
  impairments?: LabImpairments;
  capture?: Record<string, string>;
}

export async function buildDockerManifest(runDir: string): Promise<LabManifest> {
  const hostsDir = join(runDir, 'hosts');
  if (!existsSync(hostsDir)) throw new AudioLabError('AUDIOLAB_ERR_USAGE', `${runDir} has no hosts/ folder: is it a Docker lab run?`);
  const hosts: HostRecord[] = [];
  for (const f of (await readdir(hostsDir)).filter((x) => x.endsWith('.json')).sort()) {
    hosts.push(JSON.parse(await readFile(join(hostsDir, f), 'utf8')) as HostRecord);
  }
  const order = ['server', 'client-a', 'client-b'];
  hosts.sort((a, b) => (order.indexOf(a.role) + 1 || 99) - (order.indexOf(b.role) + 1 || 99) || a.role.localeCompare(b.role));
  const server = hosts.find((h) => h.role === 'server');
  const profile = hosts.find((h) => h.impairments)?.impairments?.profile ?? process.env.LAB_PROFILE ?? 'clean';
  const times = hosts.map((h) => h.at).filter((x): x is string => Boolean(x)).sort();
  const done = join(runDir, 'capture.done');
  const recordings = existsSync(join(runDir, 'recordings')) ? (await readdir(join(runDir, 'recordings'), { recursive: true })).map(String).sort() : [];
  const runId = runDir.split('/').filter(Boolean).pop() ?? '';
  const manifest: LabManifest = {
    runId,
    runtime: 'docker',
    started: times[0] ?? null,
    ended: existsSync(done) ? (await stat(done)).mtime.toISOString() : null,
    network: { name: 'lab', subnet: process.env.LAB_SUBNET ?? '198.18.0.0/24' },
    hosts: hosts.map((h) => ({ role: h.role, ip: h.ip, mac: h.mac, interface: h.interface, offloads: h.offloads })),
    kernel: server?.kernel ?? hosts[0]?.kernel ?? null,
    capture: server?.capture ?? null,
    impairments: {
      profile,
      applied: hosts.flatMap((h) => (h.impairments?.applied ?? []).map((a) => `${h.role}: ${a}`)),
      unavailable: hosts.flatMap((h) => (h.impairments?.unavailable ?? []).map((a) => `${h.role}: ${a}`)),
    },
    scenario: ['scenarios/client-b.json', 'scenarios/client-a.json'],
    recordings,
  };
  manifest.capturePoint = capturePoint(manifest);
  await writeFile(join(runDir, 'lab.json'), JSON.stringify(manifest, null, 2));
  return manifest;
}
