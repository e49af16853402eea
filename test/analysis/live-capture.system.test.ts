/**
 * Live capture with `cap` on loopback while the real audio system runs, then analysed (and checked by
 * tshark). The capture runs in a child process (ChildCapture → `audiolab capture` → LiveCapture), as
 * the lab runs it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { collect, ROOT, startServer, tempDir, type TestLab } from '../helpers.ts';
import { ChildCapture } from '../../capture/child.ts';
import { analyze } from '../../analysis/analyze.ts';
import { flagDifferences, connectionDifferences } from './oracle.ts';

let lab: TestLab;
afterEach(async () => { await lab?.close(); });

describe('live capture (cap)', () => {
  it('captures a real play session on loopback into a pcap that we and tshark read alike', async () => {
    lab = await startServer();
    const file = join(await tempDir(), 'live.pcap');
    const cap = new ChildCapture('lo', `tcp port ${lab.port}`, file);
    await cap.start();
    const a = await lab.client('a');
    const bytes = (await collect(await a.play('ode-to-joy.wav'))).length;
    await a.close();
    const stats = await cap.stop();
    expect(stats.packets).toBeGreaterThan(10);
    const r = analyze(file);
    expect(r.capture.linktypes).toEqual([1]);
    expect(r.connections).toHaveLength(1);
    const c = r.connections[0]!;
    expect(c.handshake.complete).toBe(true);
    expect(c.server.port).toBe(lab.port);
    expect(c.serverToClient.payloadBytes).toBeGreaterThan(bytes);
    expect(flagDifferences(file)).toEqual([]);
    expect(connectionDifferences(file)).toEqual([]);
  });

  it('audiolab capture stops after --count packets and reports it', async () => {
    lab = await startServer();
    const file = join(await tempDir(), 'cli.pcap');
    const run = promisify(execFile)(process.execPath, [join(ROOT, 'bin/audiolab.mjs'), 'capture', '-i', 'lo', '-f', `tcp port ${lab.port}`, '-o', file, '--count', '3'], { env: { ...process.env, CI: '1' } });
    // ready once it says it is capturing (libpcap has opened the interface)
    await new Promise<void>((resolve) => run.child.stderr!.on('data', (c: Buffer) => { if (c.toString().includes('capturing on lo')) resolve(); }));
    const a = await lab.client('a');
    await a.list();
    await a.close();
    const { stdout } = await run;
    expect(Number(/captured (\d+) packets/.exec(stdout)?.[1])).toBeGreaterThanOrEqual(3);
    expect(analyze(file).capture.packets).toBeGreaterThanOrEqual(3);
  });
});
