/**
 * The Docker lab end to end, with the real engine and Compose (v2 when present, else v1.29):
 * `up` runs the scenario and returns by itself; the capture holds both clients' handshakes from the
 * first SYN; the recordings equal the sources; the files belong to the invoking user.
 */
import { describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile, rm, stat } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MUSIC, ROOT } from '../helpers.ts';
import { analyze } from '../../analysis/analyze.ts';
import { parseWavHeader } from '../../services/common/wav.ts';

const run = promisify(execFile);

function compose(): string[] {
  try {
    execFileSync('docker', ['compose', 'version'], { stdio: 'ignore' });
    return ['docker', 'compose'];
  } catch {
    return ['docker-compose'];
  }
}

function dockerEnv(): Record<string, string> {
  const file = join(ROOT, '.cache/docker.env');
  if (!existsSync(file)) throw new Error('no .cache/docker.env: run bash scripts/docker-up.sh (scripts/test.sh does)');
  return Object.fromEntries(readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split('=') as [string, string]));
}

/** Removes unused networks left on the lab's fixed subnet by earlier runs (any project name). */
function clearStaleLabNetworks(subnet = '198.18.0.0/24'): void {
  const ids = execFileSync('docker', ['network', 'ls', '-q', '--filter', 'driver=bridge'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  for (const id of ids) {
    const info = JSON.parse(execFileSync('docker', ['network', 'inspect', id], { encoding: 'utf8' }))[0] as { IPAM?: { Config?: Array<{ Subnet?: string }> }; Containers?: object };
    const onLab = (info.IPAM?.Config ?? []).some((c) => c.Subnet === subnet);
    if (onLab && Object.keys(info.Containers ?? {}).length === 0) execFileSync('docker', ['network', 'rm', id], { stdio: 'ignore' });
  }
}

const pcm = (f: Buffer): Buffer => {
  const i = parseWavHeader(f, f.length)!;
  return f.subarray(i.dataOffset, i.dataOffset + i.dataLength);
};

describe('docker compose lab', () => {
  it('runs the whole scenario and leaves a capture with every handshake, recordings and the analysis', async () => {
    const runId = `test-${process.pid}`;
    const runDir = join(ROOT, 'runs', runId);
    const [cmd, ...pre] = compose();
    const env = { ...process.env, ...dockerEnv(), RUN_ID: runId, HOST_UID: String(process.getuid!()), HOST_GID: String(process.getgid!()), COMPOSE_PROJECT_NAME: 'audiolabtest' };
    clearStaleLabNetworks();
    try {
      await run(cmd!, [...pre, 'up', '--build'], { cwd: ROOT, env, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
      const capture = join(runDir, 'capture.pcap');
      expect((await stat(capture)).uid).toBe(process.getuid!());
      expect(existsSync(join(runDir, 'client-a.done')) && existsSync(join(runDir, 'client-b.done'))).toBe(true);
      const r = analyze(capture);
      const conns = r.connections.filter((c) => c.server.port === 5050);
      expect(conns.map((c) => c.client.ip).sort()).toEqual(['198.18.0.11', '198.18.0.12']);
      for (const c of conns) {
        expect(c.handshake.complete).toBe(true);
        expect(c.history.startsWith('S')).toBe(true); // the very first SYN is in the capture
        // the sidecar turned offloads off on the server's interface: its segments are wire-size
        // (the clients' own interfaces still have TSO/GSO on: see the README's status)
        expect(c.serverToClient.aboveMss).toBe(0);
      }
      expect(JSON.parse(await readFile(join(runDir, 'report.json'), 'utf8')).connections.length).toBe(r.connections.length);
      for (const song of ['chimes-32bit-16k.wav', 'scale-24bit-48k.wav']) {
        const rec = await readFile(join(runDir, 'recordings', 'client-b', `client-a--${song}`));
        expect(pcm(rec).equals(pcm(await readFile(join(MUSIC, song))))).toBe(true);
      }
    } finally {
      await run(cmd!, [...pre, 'down', '--remove-orphans'], { cwd: ROOT, env }).catch(() => {});
      await rm(runDir, { recursive: true, force: true });
    }
  }, 600_000);
});
