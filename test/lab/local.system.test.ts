/** The lab's local runtime end to end: processes on 127.0.0.10-12, live capture, analysis, runs/ layout. */
import { describe, expect, it } from 'vitest';
import { chmod, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MUSIC, tempDir } from '../helpers.ts';
import { runLocalLab } from '../../lab/local.ts';
import { parseWavHeader } from '../../services/common/wav.ts';
import { connectionDifferences, flagDifferences } from '../analysis/oracle.ts';
import { readManifest } from '../../analysis/app/manifest.ts';
import type { FullAnalysis } from '../../analysis/app/index.ts';

const pcm = (f: Buffer): Buffer => {
  const i = parseWavHeader(f, f.length)!;
  return f.subarray(i.dataOffset, i.dataOffset + i.dataLength);
};

describe('audiolab lab --runtime local', () => {
  it('runs the scenario, captures both clients\' handshakes, records what was played, and analyses it', async () => {
    const runs = await tempDir('audiolab-runs-');
    const r = await runLocalLab({ runsDir: runs, port: 5062 });
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    expect(await readlink(join(runs, 'latest'))).toBe(r.runDir.split('/').pop());
    const manifest = readManifest(join(r.runDir, 'lab.json'));
    expect(manifest.ok).toBe(true);
    expect(manifest.hosts.map((h) => h.ip)).toEqual(['127.0.0.10', '127.0.0.11', '127.0.0.12']);
    const analysis = JSON.parse(await readFile(join(r.runDir, 'report.json'), 'utf8')) as FullAnalysis;
    // captured with tcpdump (it can capture here): every byte is in the file, so every transfer is judged
    expect(manifest.capture?.tool).toBe('tcpdump');
    expect(analysis.app.connections.flatMap((c) => [c.c2s.gaps, c.s2c.gaps])).toEqual([0, 0, 0, 0]);
    expect(analysis.app.streams.map((x) => x.intact)).toEqual(analysis.app.streams.map(() => true));
    expect(analysis.app.relays.map((x) => [x.kind, x.intact])).toEqual(analysis.app.relays.map((x) => [x.kind, true]));
    expect(analysis.app.clients.map((c) => c.name).sort()).toEqual(['client-a', 'client-b']);
    expect(analysis.app.plays.map((p) => p.source)).toEqual(['network', 'cache']);
    expect(analysis.app.relays.map((x) => x.kind).sort()).toEqual(['play-on', 'relay']);
    for (const f of ['report.html', 'report.md']) expect((await readFile(join(r.runDir, f), 'utf8')).length).toBeGreaterThan(1000);
    const clients = analysis.connections.map((c) => c.client.ip).sort();
    expect(clients).toEqual(['127.0.0.11', '127.0.0.12']);
    for (const c of analysis.connections) {
      expect(c.handshake.complete).toBe(true);
      expect(c.server).toEqual({ ip: '127.0.0.10', port: 5062 });
    }
    // client-b's recordings equal the source PCM
    const recB = join(r.runDir, 'recordings', 'client-b');
    expect((await readdir(recB)).sort()).toEqual(['client-a--chimes-32bit-16k.wav', 'client-a--scale-24bit-48k.wav']);
    for (const song of ['chimes-32bit-16k.wav', 'scale-24bit-48k.wav']) {
      expect(pcm(await readFile(join(recB, `client-a--${song}`))).equals(pcm(await readFile(join(MUSIC, song))))).toBe(true);
    }
    // and Wireshark agrees with the analysis of the lab's own capture
    expect(flagDifferences(r.capture)).toEqual([]);
    expect(connectionDifferences(r.capture)).toEqual([]);
  });

  it('falls back to cap where tcpdump cannot capture, says so, and the report names the frames cap cut and why', async () => {
    // a tcpdump that cannot capture (as without the rights to): the one fault here not caused for real
    const bin = await tempDir('audiolab-fake-tcpdump-');
    await writeFile(join(bin, 'tcpdump'), '#!/bin/sh\necho "tcpdump: lo: You don\'t have permission to capture on that device" >&2\nexit 1\n');
    await chmod(join(bin, 'tcpdump'), 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path ?? ''}`;
    const steps: string[] = [];
    let r: Awaited<ReturnType<typeof runLocalLab>>;
    try {
      r = await runLocalLab({ runsDir: await tempDir('audiolab-runs-'), port: 5065, onStep: (m) => steps.push(m) });
    } finally {
      process.env.PATH = path;
    }
    expect(r.failures).toEqual([]);
    const manifest = readManifest(join(r.runDir, 'lab.json'));
    expect(manifest.capture?.tool).toBe('cap (libpcap)');
    expect(String(manifest.capture?.note)).toMatch(/tcpdump could not capture here \(.*permission.*\): captured with cap, whose snap length is 65535 bytes/);
    expect(steps.some((m) => m.startsWith('tcpdump could not capture here'))).toBe(true);
    const analysis = JSON.parse(await readFile(join(r.runDir, 'report.json'), 'utf8')) as FullAnalysis;
    // the protocol is still followed through the holes cap's snap length leaves
    expect(analysis.app.clients.map((c) => c.name).sort()).toEqual(['client-a', 'client-b']);
    const holes = analysis.app.connections.flatMap((c) => [...c.c2s.holes, ...c.s2c.holes]);
    expect(holes.length).toBeGreaterThan(0);
    for (const h of holes) expect([h.why, h.length]).toEqual(['cut', 14]);
    const html = await readFile(join(r.runDir, 'report.html'), 'utf8');
    expect(html).toMatch(/the capture lacks \d+ payload bytes in \d+ holes?: (all|\d+\+?) cut from the end of frames? [\d, ]+(and more )?\(the capture kept 65535 bytes of each frame: frame\.cap_len &lt; frame\.len\)/);
  });
});
