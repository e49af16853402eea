/** The lab's local runtime end to end: processes on 127.0.0.10-12, live capture, analysis, runs/ layout. */
import { describe, expect, it } from 'vitest';
import { readFile, readdir, readlink } from 'node:fs/promises';
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
    // the protocol is followed even though cap's 65535-byte snap length cuts loopback's largest segments
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
});
