/**
 * A relay stall, caused for real and found in the capture: client-b (a separate process) is stopped
 * (SIGSTOP) in the middle of a relay from client-a; its socket buffer fills and it advertises a zero
 * window, the server stops forwarding, and the report names the stall and blames client-b's leg.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bigWav, ROOT, startServer, tempDir, waitFor, type TestLab } from '../helpers.ts';
import { TcpdumpCapture } from '../../capture/tcpdump.ts';
import { analyzeWithApp } from '../../analysis/app/index.ts';

let lab: TestLab | undefined;
afterEach(async () => { await lab?.close(); });

describe('relay stalls', () => {
  it('finds a stall when the receiver stops reading, and blames the receiver\'s leg (zero window)', async () => {
    lab = await startServer();
    const dir = await tempDir('audiolab-stall-');
    const file = join(dir, 'stall.pcap');
    const cap = new TcpdumpCapture('lo', `tcp port ${lab.port}`, file);
    await cap.start();
    const b = spawn(process.execPath, [join(ROOT, 'bin/audiolab.mjs'), 'listen', '--server', `127.0.0.1:${lab.port}`, '--name', 'client-b', '--count', '1', '--sink', 'null'], { stdio: 'ignore', env: { ...process.env, CI: '1' } });
    try {
      await waitFor(() => lab!.server.clients().some((c) => c.name === 'client-b' && c.listening), 15_000);
      const a = await lab.client('client-a');
      const size = 40 * 1024 * 1024;
      const song = join(dir, 'long-relay.wav');
      await writeFile(song, bigWav(size, 3));
      let sent = 0;
      const done = a.sendTo('client-b', song, (n) => { sent = n; });
      await waitFor(() => sent > 2 * 1024 * 1024, 15_000, 5);
      b.kill('SIGSTOP');
      await new Promise((r) => setTimeout(r, 1500));
      b.kill('SIGCONT');
      const ok = await done;
      expect(ok.bytes).toBe(size);
      await a.close();
    } finally {
      b.kill('SIGCONT');
      if (b.exitCode === null) await Promise.race([once(b, 'exit'), new Promise((r) => setTimeout(r, 10_000))]);
      b.kill();
      await cap.stop();
    }
    const r = analyzeWithApp(file, { manifest: null });
    const relay = r.app.relays.find((x) => x.kind === 'relay')!;
    expect(relay.from).toBe('client-a');
    expect(relay.to).toBe('client-b');
    expect(relay.intact).toBe(true);
    const long = relay.stalls.filter((s) => s.durationMs >= 1000);
    expect(long.length).toBeGreaterThanOrEqual(1);
    expect(long[0]!.cause).toMatch(/B's leg: client-b advertised a zero window/);
    expect(long[0]!.filter).toMatch(/^frame\.time_relative >= /);
    expect(relay.delayMs!.max).toBeGreaterThan(relay.delayMs!.p50);
  }, 120_000);
});
