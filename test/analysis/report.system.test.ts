/**
 * The app-level analysis and the report, on a real lab run (local runtime, captured with tcpdump so
 * that every byte of every loopback segment is in the file): the protocol decoded from the capture
 * matches what the scenario did, streams verify by sha256, the relay pairs with its source, and
 * report.html renders in real headless Chromium with every chart drawn.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { chromium, type Browser } from 'playwright-core';
import { MUSIC, ROOT, tempDir } from '../helpers.ts';
import { runLocalLab, type LocalLabResult } from '../../lab/local.ts';
import { analyze } from '../../analysis/analyze.ts';
import { execFileSync } from 'node:child_process';
import type { FullAnalysis } from '../../analysis/app/index.ts';

let run: LocalLabResult;
let report: FullAnalysis;
let browser: Browser;
const sha = async (f: string): Promise<string> => createHash('sha256').update(await readFile(f)).digest('hex');

beforeAll(async () => {
  const runs = await tempDir('audiolab-report-');
  run = await runLocalLab({ runsDir: runs, port: 5063, capture: 'tcpdump' });
  report = JSON.parse(await readFile(join(run.runDir, 'report.json'), 'utf8')) as FullAnalysis;
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('the annotated capture (capture.pcapng)', () => {
  it('holds the same packets, each message\'s first frame commented in words, read by plain tshark and by our reader alike', () => {
    const ng = join(run.runDir, 'capture.pcapng');
    const tshark = (args: string[]): string => execFileSync('tshark', ['-n', '-r', ng, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    // every comment, one per line (a frame may start several messages)
    const comments = tshark(['-T', 'fields', '-e', 'frame.comment', '-E', 'occurrence=a', '-E', 'aggregator=\n']).split('\n').filter(Boolean);
    const messages = Object.values(report.app.messageCounts).reduce((s, n) => s + (n ?? 0), 0);
    expect(comments.filter((c) => !c.startsWith('TCP analysis:'))).toHaveLength(messages);
    expect(messages).toBeGreaterThan(20);
    const plays = tshark(['-Y', 'frame.comment contains "client-a → server: PLAY "', '-T', 'fields', '-e', 'frame.number']).trim().split('\n').filter(Boolean).map(Number);
    expect(plays).toEqual(report.app.timeline.filter((e) => e.type === 'PLAY').map((e) => e.frame));
    expect(comments.some((c) => /DATA stream \d+ chunk \d+ \(offset \d+/.test(c))).toBe(true);
    // the same packets, and the same analysis from our reader
    const count = (f: string): number => Number(/Number of packets:\s+(\d+)/.exec(execFileSync('capinfos', ['-c', '-M', f], { encoding: 'utf8' }))?.[1]);
    expect(count(ng)).toBe(count(run.capture));
    expect(analyze(ng).connections).toEqual(analyze(run.capture).connections);
  });
});

describe('app-level analysis of a lab capture', () => {
  it('names the clients from HELLO/WELCOME and the manifest, and decodes every byte', () => {
    expect(run.failures).toEqual([]); // (the reasons, when the lab run failed)
    expect(run.ok).toBe(true);
    const a = report.app;
    expect(a.clients.map((c) => [c.name, c.role, c.ip]).sort()).toEqual([['client-a', 'client-a', '127.0.0.11'], ['client-b', 'client-b', '127.0.0.12']]);
    expect(a.undecoded).toEqual([]);
    for (const c of a.connections) {
      expect(c.c2s.gaps + c.s2c.gaps).toBe(0);
      const tcp = report.connections.find((x) => x.index === c.conn)!;
      // every byte once: the TCP payload count includes retransmitted segments (loopback under
      // load can drop from its backlog queue), the decoded stream has each byte once
      for (const [app, dir] of [[c.c2s, tcp.clientToServer], [c.s2c, tcp.serverToClient]] as const) {
        if (dir.flags.retransmission === 0) expect(app.bytes).toBe(dir.payloadBytes);
        else expect(app.bytes).toBeLessThan(dir.payloadBytes);
      }
    }
    // the scenario's requests, each seen once
    for (const t of ['LIST', 'PLAY', 'PLAYED', 'UPLOAD', 'UPLOAD_DONE', 'PLAY_ON', 'SEND_TO']) expect(a.messageCounts[t as 'LIST']).toBe(1);
    expect(a.messageCounts.HELLO).toBe(2);
    expect(a.messageCounts.ACCEPT).toBe(2);
    const who = a.timeline.filter((e) => e.type === 'HELLO').map((e) => e.client).sort();
    expect(who).toEqual(['client-a', 'client-b']);
  });

  it('finds every stream, verifies each by sha256 against the song files, and shows the cached replay as a play with no transfer', async () => {
    const s = report.app.streams;
    const kinds = s.map((x) => `${x.client}:${x.kind}:${x.song}`).sort();
    expect(kinds).toEqual([
      'client-a:play:ode-to-joy.wav', 'client-a:send-to:chimes-32bit-16k.wav', 'client-a:upload:uploaded-by-client-a.wav',
      'client-b:play-on:scale-24bit-48k.wav', 'client-b:relay:chimes-32bit-16k.wav',
    ]);
    for (const x of s) {
      expect(x.status).toBe('complete');
      expect(x.intact).toBe(true);
      expect(x.bytes).toBe(x.size);
      expect(x.chunks).toBeGreaterThan(0);
      expect(x.throughputBps).toBeGreaterThan(0);
    }
    const byKind = (k: string): (typeof s)[number] => s.find((x) => x.kind === k)!;
    expect(byKind('play').sha256).toBe(await sha(join(MUSIC, 'ode-to-joy.wav')));
    expect(byKind('relay').sha256).toBe(await sha(join(MUSIC, 'chimes-32bit-16k.wav')));
    expect(byKind('upload').sha256).toBe(await sha(join(MUSIC, 'frere-jacques-8bit.wav')));
    const plays = report.app.plays;
    expect(plays.map((p) => [p.song, p.source, p.stream === null])).toEqual([['ode-to-joy.wav', 'network', false], ['ode-to-joy.wav', 'cache', true]]);
  });

  it('pairs the relay with its source by content and measures each chunk\'s time in the server', () => {
    const relay = report.app.relays.find((r) => r.kind === 'relay')!;
    expect(relay).toBeDefined();
    expect(relay.from).toBe('client-a');
    expect(relay.to).toBe('client-b');
    expect(relay.contentMatched).toBe(true);
    expect(relay.intact).toBe(true);
    expect(relay.bytesIn).toBe(relay.bytesOut);
    const out = report.app.streams.find((s) => s.id === relay.outStream)!;
    expect(relay.delayMs!.samples).toBe(out.chunks);
    expect(relay.delayMs!.p50).toBeGreaterThanOrEqual(0);
    expect(relay.delayMs!.max).toBeGreaterThanOrEqual(relay.delayMs!.p95);
    expect(relay.delayMs!.p95).toBeGreaterThanOrEqual(relay.delayMs!.p50);
    const playOn = report.app.relays.find((r) => r.kind === 'play-on')!;
    expect(playOn.from).toBe('client-a');
    expect(playOn.contentMatched).toBe(true);
  });

  it('draws a ladder of each handshake and teardown with the options', () => {
    for (const c of report.connections) {
      expect(c.ladder.slice(0, 3).map((l) => [l.flags, l.fromClient])).toEqual([['SYN', true], ['SYN-ACK', false], ['ACK', true]]);
      expect(c.ladder[0]!.options).toMatch(/MSS=\d+/);
      expect(c.ladder.some((l) => l.flags.includes('FIN'))).toBe(true);
    }
  });
});

describe('report files', () => {
  it('report.html renders in headless Chromium with no console errors, and every chart has content', async () => {
    const html = join(run.runDir, 'report.html');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    const requests: string[] = [];
    page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
    await page.goto(`file://${html}`);
    const charts = await page.$$eval('svg.chart', (els) => els.map((e) => ({ kind: e.getAttribute('data-kind'), marks: e.querySelectorAll('.mark').length, w: e.getBoundingClientRect().width })));
    expect(errors).toEqual([]);
    expect(requests).toEqual([]); // self-contained
    const kinds = new Set(charts.map((c) => c.kind));
    for (const k of ['timeline', 'ladder', 'histogram', 'throughput', 'rtt', 'relay-delay']) expect(kinds.has(k)).toBe(true);
    for (const c of charts) {
      expect(c.marks).toBeGreaterThan(0);
      expect(c.w).toBeGreaterThan(100);
    }
    // every chart is titled and has a text alternative, both referenced from the chart (ids unique)
    const named = await page.$$eval('svg.chart', (els) => els.map((e) => {
      const ids = (e.getAttribute('aria-labelledby') ?? '').split(' ').filter(Boolean);
      const resolved = ids.map((id: string) => e.ownerDocument.querySelectorAll(`[id="${id}"]`).length);
      return { title: e.querySelector(':scope > title')?.textContent ?? '', desc: e.querySelector(':scope > desc')?.textContent ?? '', ids: ids.length, resolved };
    }));
    for (const n of named) {
      expect(n.title.length).toBeGreaterThan(5);
      expect(n.desc.length).toBeGreaterThan(10);
      expect([n.ids, n.resolved]).toEqual([2, [1, 1]]);
    }
    // a time–sequence graph for each drawn connection, with its segments, ACK line and title
    const tsg = await page.$$eval('section.conn', (secs) => secs.map((sec) => [...sec.querySelectorAll('svg[data-kind=time-sequence]')].map((g) => ({
      title: g.querySelector(':scope > title')?.textContent ?? '',
      segments: Number(g.querySelector('.segments')?.getAttribute('data-segments') ?? 0),
      ack: g.querySelectorAll('.ack-line').length,
    }))));
    expect(tsg).toHaveLength(report.connections.length);
    for (const graphs of tsg) {
      expect(graphs.length).toBeGreaterThan(0);
      for (const g of graphs) {
        expect(g.title).toMatch(/^Time–sequence graph, \S+→\S+ \(tcp\.stream \d+\)$/);
        expect(g.segments).toBeGreaterThan(0);
        expect(g.ack).toBe(1);
      }
    }
    expect(kinds.has('bytes-in-flight')).toBe(true);
    // at 1280 px no table needs a horizontal scroll bar: long cells (filters) wrap
    const wide = await page.$$eval('table', (els) => els.filter((t) => t.scrollWidth > t.clientWidth + 1).map((t) => `${t.previousElementSibling?.textContent ?? '?'}: ${t.scrollWidth} > ${t.clientWidth}`));
    expect(wide).toEqual([]);
    expect(await page.$eval('html', (e) => e.scrollWidth)).toBeLessThanOrEqual(1280);
    // the text a learner looks for is there
    const text = await page.textContent('body');
    for (const s of ['three-way handshake', 'MSS', 'Segment sizes', 'Relayed streams', 'tcp.stream eq 0']) expect(text).toContain(s);
    const shots = join(ROOT, '.cache', 'screenshots');
    await mkdir(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'report-top.png') });
    await page.locator('svg[data-kind=ladder]').first().screenshot({ path: join(shots, 'report-ladder.png') });
    await page.locator('svg[data-kind=timeline]').screenshot({ path: join(shots, 'report-timeline.png') });
    await page.locator('svg[data-kind=time-sequence]').first().screenshot({ path: join(shots, 'report-time-sequence.png') });
    await page.locator('svg[data-kind=bytes-in-flight]').first().screenshot({ path: join(shots, 'report-bytes-in-flight.png') });
    await page.screenshot({ path: join(shots, 'report-full.png'), fullPage: true });
    expect(existsSync(join(shots, 'report-ladder.png'))).toBe(true);
    await page.close();
  });

  it('report.md links charts that exist, with the same tables', async () => {
    const md = await readFile(join(run.runDir, 'report.md'), 'utf8');
    const links = [...md.matchAll(/\]\((charts\/[^)]+\.svg)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(5);
    for (const l of links) expect(existsSync(join(run.runDir, l))).toBe(true);
    expect((await readdir(join(run.runDir, 'charts'))).length).toBe(new Set(links).size);
    expect(md).toContain('| client | kind | song |');
    expect(md).toContain('tcp.stream eq 0');
    // a play's transfer in words, not the stream's id (0/s2c/1)
    const plays = md.slice(md.indexOf('### Plays'), md.indexOf('## Relayed streams'));
    expect(plays).toMatch(/\| network \| stream \d+ on tcp\.stream \d+ \(server→client\) \|/);
    expect(plays).toMatch(/\| cache \(no network transfer\) \| none \(played from the cache\) \|/);
    expect(plays).not.toMatch(/\d+\/s2c\/\d+/);
  });
});
