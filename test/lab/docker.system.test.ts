/**
 * The Docker lab end to end, with the real engine and Compose (v2 when present, else v1.29), through
 * the wrapper `npm run lab` runs (runDockerLab): the scenario passes; the capture holds both clients'
 * handshakes from the first SYN, wire-size segments both ways (offloads off on every interface), the
 * play-on and the relayed stream, intact; the manifest describes the run; the recordings equal the
 * sources; the files belong to the invoking user. Then the lossy profile (retransmissions that tshark
 * agrees with), both run as `--profile clean,lossy` runs them (runDockerProfiles) and compared (the
 * comparison says the lossy run retransmitted, and renders in headless Chromium), and Ctrl-C in the
 * middle of a run (a valid capture is left).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { readFile, rm, stat } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MUSIC, ROOT } from '../helpers.ts';
import { analyze } from '../../analysis/analyze.ts';
import { parseWavHeader } from '../../services/common/wav.ts';
import { lastWords, localDockerEnv, preflight, runDockerLab, type DockerLabOptions } from '../../lab/docker.ts';
import type { FullAnalysis } from '../../analysis/app/index.ts';
import { runDockerProfiles, type ProfilesResult } from '../../lab/profiles.ts';
import type { Comparison } from '../../analysis/compare/compare.ts';
import type { LabManifest } from '../../analysis/app/manifest.ts';
import { connectionDifferences, flagDifferences, causeDifferences } from '../analysis/oracle.ts';
import { clearStaleLabNetworks } from './networks.ts';

const pcm = (f: Buffer): Buffer => {
  const i = parseWavHeader(f, f.length)!;
  return f.subarray(i.dataOffset, i.dataOffset + i.dataLength);
};

let n = 0;
async function lab(o: DockerLabOptions = {}): Promise<Awaited<ReturnType<typeof runDockerLab>>> {
  clearStaleLabNetworks();
  return runDockerLab({ runId: `test-${process.pid}-${n++}`, projectName: 'audiolabtest', updateLatest: false, ...o });
}


beforeAll(() => {
  if (!existsSync(join(ROOT, '.cache/docker.env'))) throw new Error('no .cache/docker.env: run bash scripts/docker-up.sh (scripts/test.sh does)');
});

let both: ProfilesResult;
const steps: string[] = [];
beforeAll(async () => {
  clearStaleLabNetworks();
  both = await runDockerProfiles(['clean', 'lossy'], { runId: `test-${process.pid}`, projectName: 'audiolabtest', updateLatest: false, onStep: (s) => steps.push(s) });
}, 900_000);
afterAll(async () => {
  for (const r of both?.runs ?? []) await rm(r.runDir, { recursive: true, force: true });
  for (const c of both?.comparisons ?? []) await rm(c.dir, { recursive: true, force: true });
});

describe('docker compose lab', () => {
  it('runs the whole scenario and leaves a capture, a manifest, recordings and the report', async () => {
    const r = both.runs[0]!;
    {
      expect(r.failures).toEqual([]);
      expect(r.ok).toBe(true);
      const capture = r.capture;
      expect((await stat(capture)).uid).toBe(process.getuid!());
      const m = JSON.parse(await readFile(join(r.runDir, 'lab.json'), 'utf8')) as LabManifest;
      expect(m.runtime).toBe('docker');
      expect(m.hosts.map((h) => [h.role, h.ip])).toEqual([['server', '198.18.0.10'], ['client-a', '198.18.0.11'], ['client-b', '198.18.0.12']]);
      for (const h of m.hosts) {
        expect(h.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
        expect(h.offloads).toBe('off');
      }
      expect(m.capture?.tool).toBe('tcpdump');
      expect(m.capture?.version).toMatch(/tcpdump version/);
      expect(m.impairments.profile).toBe('clean');
      expect(Object.values(m.images ?? {}).every((i) => i.id.startsWith('sha256:') && i.sizeBytes > 0)).toBe(true);
      expect(Date.parse(m.ended ?? '')).toBeGreaterThan(Date.parse(m.started ?? ''));

      const a = analyze(capture);
      const conns = a.connections.filter((c) => c.server.port === 5050);
      expect(conns.map((c) => c.client.ip).sort()).toEqual(['198.18.0.11', '198.18.0.12']);
      for (const c of conns) {
        expect(c.handshake.complete).toBe(true);
        expect(c.history.startsWith('S')).toBe(true); // the very first SYN is in the capture
        // offloads off on the server's and the clients' interfaces: wire-size segments both ways
        expect(c.serverToClient.aboveMss).toBe(0);
        expect(c.clientToServer.aboveMss).toBe(0);
        // a clean link is clean: the clients' receive buffers hold the first window's burst
        // (on failure the retransmissions, each with its cause and frames, say what happened)
        expect({ s2c: c.serverToClient.retransmissions, c2s: c.clientToServer.retransmissions }).toEqual({ s2c: [], c2s: [] });
        expect([c.serverToClient.flags.retransmission, c.clientToServer.flags.retransmission]).toEqual([0, 0]);
      }
      const report = JSON.parse(await readFile(join(r.runDir, 'report.json'), 'utf8')) as FullAnalysis;
      expect(report.manifest?.runtime).toBe('docker');
      expect(report.app.relays.map((x) => [x.kind, x.from, x.to, x.intact]).sort()).toEqual([['play-on', 'client-a', 'client-b', true], ['relay', 'client-a', 'client-b', true]]);
      expect(report.app.plays.map((p) => p.source)).toEqual(['network', 'cache']);
      expect(existsSync(join(r.runDir, 'report.html'))).toBe(true);
      // the annotated capture: plain tshark finds the play-on by its comment
      const ng = join(r.runDir, 'capture.pcapng');
      const onB = execFileSync('tshark', ['-n', '-r', ng, '-Y', 'frame.comment contains "PLAY_ON scale-24bit-48k.wav on client-b"', '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      expect(onB).toMatch(/^\d+$/);
      for (const song of ['chimes-32bit-16k.wav', 'scale-24bit-48k.wav']) {
        const rec = await readFile(join(r.runDir, 'recordings', 'client-b', `client-a--${song}`));
        expect(pcm(rec).equals(pcm(await readFile(join(MUSIC, song))))).toBe(true);
      }
    }
  });

  it('lossy profile: client-b\'s link drops packets; the report shows retransmissions and tshark agrees', async () => {
    const r = both.runs[1]!;
    {
      expect(r.failures).toEqual([]);
      const m = JSON.parse(await readFile(join(r.runDir, 'lab.json'), 'utf8')) as LabManifest;
      expect(m.impairments.profile).toBe('lossy');
      expect(m.impairments.applied.some((x) => x.startsWith('client-b: loss'))).toBe(true);
      // delay needs netem: applied where the kernel has it, recorded as unavailable where not
      expect([...m.impairments.applied, ...m.impairments.unavailable].some((x) => /delay|netem/.test(x))).toBe(true);
      const report = JSON.parse(await readFile(join(r.runDir, 'report.json'), 'utf8')) as FullAnalysis;
      const toB = report.connections.find((c) => c.client.ip === '198.18.0.12')!;
      expect(toB.serverToClient.flags.retransmission).toBeGreaterThan(0);
      expect(flagDifferences(r.capture)).toEqual([]);
      expect(connectionDifferences(r.capture)).toEqual([]);
      expect(causeDifferences(r.capture)).toEqual([]);
      // every retransmission to client-b has a cause, and the first of them are told in words
      const causes = toB.serverToClient.retransmissionCauses;
      expect(Object.values(causes).reduce((n, k) => n + k, 0)).toBe(toB.serverToClient.flags.retransmission);
      expect(toB.serverToClient.retransmissions.length).toBeGreaterThan(0);
      // TCP repaired the loss: the relayed song still arrived intact
      expect(report.app.relays.every((x) => x.intact)).toBe(true);
      const html = await readFile(join(r.runDir, 'report.html'), 'utf8');
      expect(html).toContain('tcp.analysis.retransmission');
      expect(html).toContain('Retransmissions, and why');
      expect(html).toMatch(/frame \d+ resends seq \d+ \(\d+ bytes\)/);
    }
  });

  it('--profile clean,lossy: each run with its progress, then the comparison, matched by role, says the lossy run retransmitted', async () => {
    expect(both.ok).toBe(true);
    expect(both.runs.map((r) => r.profile)).toEqual(['clean', 'lossy']);
    expect(steps.some((s) => s.startsWith('[1/2 clean]'))).toBe(true);
    expect(steps.some((s) => s.startsWith('[2/2 lossy]'))).toBe(true);
    expect(both.comparisons).toHaveLength(1);
    const dir = both.comparisons[0]!.dir;
    const c = JSON.parse(await readFile(join(dir, 'compare.json'), 'utf8')) as Comparison;
    expect([c.a.profile, c.b.profile]).toEqual(['clean', 'lossy']);
    expect(c.connections.map((p) => p.role).sort()).toEqual(['client-a↔server', 'client-b↔server']);
    const toB = c.connections.find((p) => p.role === 'client-b↔server')!.directions.find((d) => d.name === 'server→client-b')!;
    const retx = toB.measures.find((m) => m.name === 'retransmissions')!;
    expect(retx.b!).toBeGreaterThan(retx.a!);
    // by cause, as the report counts them: together they are all of the lossy run's retransmissions
    const causes = toB.measures.filter((m) => m.name.startsWith('  '));
    expect(causes.map((m) => m.name.trim().split(' ')[0])).toEqual(['timeout', 'fast', 'in', 'spurious', 'probe', 'other']);
    expect(causes.reduce((n, m) => n + m.b!, 0)).toBe(retx.b);
    expect(c.differences.some((d) => /server→client-b had \d+ retransmissions? on the lossy run/.test(d))).toBe(true);
    expect(c.transfers.some((t) => t.kind === 'play-on' && t.client === 'client-b')).toBe(true);
    expect(c.relays.length).toBe(2);
    // the page: self-contained, no console errors, every chart titled, nothing wider than 1280 px
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${join(dir, 'compare.html')}`);
      const charts = await page.$$eval('svg.chart', (els) => els.map((e) => ({ title: e.querySelector('title')?.textContent ?? '', lines: e.querySelectorAll('polyline').length })));
      expect(errors).toEqual([]);
      expect(charts.length).toBe(8); // two connections × two directions × (progress, throughput)
      for (const ch of charts) {
        expect(ch.title).toMatch(/^(Time–sequence progress|Throughput over time), .+: clean and lossy runs$/);
        expect(ch.lines).toBe(2);
      }
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280);
      expect(await page.textContent('body')).toContain('What differs');
    } finally {
      await browser.close();
    }
    const md = await readFile(join(dir, 'compare.md'), 'utf8');
    for (const l of [...md.matchAll(/\]\((charts\/[^)]+\.svg)\)/g)].map((m) => m[1]!)) expect(existsSync(join(dir, l))).toBe(true);
  });

  it('Ctrl-C in the middle of a run stops it and still leaves a valid capture', async () => {
    const ac = new AbortController();
    const steps: string[] = [];
    const runId = `test-${process.pid}-ctrlc`;
    const capture = join(ROOT, 'runs', runId, 'capture.pcap');
    // interrupt once the clients' traffic is being captured (the file holds more than its header)
    const poll = setInterval(() => {
      if (existsSync(capture) && statSync(capture).size > 4000) {
        clearInterval(poll);
        ac.abort();
      }
    }, 20);
    const r = await lab({ runId, build: false, signal: ac.signal, onStep: (s) => steps.push(s) }).finally(() => clearInterval(poll));
    try {
      expect(r.interrupted).toBe(true);
      expect(r.ok).toBe(false);
      expect(steps.some((s) => s.includes('stopping'))).toBe(true);
      const a = analyze(r.capture); // throws on a corrupt file
      expect(a.capture.partial).toBe(false);
      expect(a.capture.packets).toBeGreaterThan(0);
      execFileSync('capinfos', [r.capture], { stdio: 'ignore' }); // Wireshark's tools read it too
    } finally {
      await rm(r.runDir, { recursive: true, force: true });
    }
  }, 600_000);
});

describe('the Docker lab on a machine not set up for it', () => {
  it('names the one command to run when the base image is missing', async () => {
    const err = await preflight({ BASE_IMAGE: 'audiolab/base:never-built' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AUDIOLAB_ERR_NOT_SET_UP' });
    expect((err as Error).message).toContain('run: bash scripts/setup.sh --docker');
    await expect(preflight(localDockerEnv())).resolves.toBeUndefined();
  });

  it('says why a container failed, in its own last words', async () => {
    const base = localDockerEnv().BASE_IMAGE ?? 'node:24-bookworm-slim';
    const id = execFileSync('docker', ['run', '-d', base, 'sh', '-c', 'echo starting; echo "Error: no such song" >&2; exit 3'], { encoding: 'utf8' }).trim();
    try {
      execFileSync('docker', ['wait', id]);
      expect(await lastWords(id)).toBe('starting | Error: no such song');
    } finally {
      execFileSync('docker', ['rm', '-f', id], { stdio: 'ignore' });
    }
  });
});
