/** Scenario mode: the lab's two scenario files run against a real server and both pass. */
import { afterEach, describe, expect, it } from 'vitest';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MUSIC, ROOT, startServer, tempDir, waitFor, type TestLab } from '../helpers.ts';
import { interpolate, loadScenario, runScenario } from '../../services/client/scenario.ts';
import { parseWavHeader } from '../../services/common/wav.ts';
import { checkListenerRecordings } from '../../lab/recordings.ts';

let lab: TestLab;
afterEach(async () => { await lab?.close(); });

const pcm = (file: Buffer): Buffer => {
  const i = parseWavHeader(file, file.length)!;
  return file.subarray(i.dataOffset, i.dataOffset + i.dataLength);
};

describe('scenario mode', () => {
  it('interpolates ${VAR} and ${VAR:-default}', () => {
    expect(interpolate('${X}-${Y:-dflt}-${Z:-}', { X: 'x' })).toBe('x-dflt-');
  });

  it('runs the lab scenarios of client-b (listener), ten extra listeners (--scale, more than one client\'s streams at once) and client-a (everything else)', async () => {
    lab = await startServer();
    const runDir = await tempDir('audiolab-run-');
    const rec = join(runDir, 'recordings');
    const cache = await tempDir('audiolab-cache-');
    const n = 10;
    Object.assign(process.env, { AUDIOLAB_SERVER: `127.0.0.1:${lab.port}`, AUDIOLAB_RECORDINGS: rec, AUDIOLAB_CACHE: cache, LISTENERS: String(n) });
    const b = runScenario(await loadScenario(join(ROOT, 'scenarios/client-b.json')));
    const listeners: Array<ReturnType<typeof runScenario>> = [];
    const host = process.env.HOSTNAME;
    for (let i = 0; i < n; i++) {
      process.env.HOSTNAME = `host-${i}`; // each listener container records under its own host name
      listeners.push(runScenario(await loadScenario(join(ROOT, 'scenarios/listener.json'))));
    }
    process.env.HOSTNAME = host;
    await waitFor(() => lab.server.clients().some((c) => c.name === 'client-b' && c.listening));
    const a = await runScenario(await loadScenario(join(ROOT, 'scenarios/client-a.json')));
    delete process.env.LISTENERS;
    const rb = await b;
    expect(a.results.filter((r) => !r.ok)).toEqual([]);
    expect(rb.results.filter((r) => !r.ok)).toEqual([]);
    expect(a.ok && rb.ok).toBe(true);
    expect(a.results.map((r) => r.step.do)).toEqual(['connect', 'wait-for', 'list', 'play', 'play', 'upload', 'play-on', 'send-to', 'wait-for', 'play-on', 'send-to', 'quit']);
    // the same play-on and relay reached every listener (named listener, listener-2 by the server)
    expect(a.results[9]!.detail).toMatch(/played on listener, listener-2|played on listener-2, listener/);
    for (const l of await Promise.all(listeners)) {
      expect(l.ok).toBe(true);
      expect(l.results.find((r) => r.step.do === 'listen')!.detail).toMatch(/play-on scale-24bit-48k\.wav from client-a.*relay chimes-32bit-16k\.wav from client-a/);
    }
    // what the lab checks after a --scale run: every listener recorded both streams whole
    expect(await checkListenerRecordings(runDir, n, MUSIC)).toEqual({ failures: [], summary: `${n} listener(s): ${2 * n} of ${2 * n} recordings intact` });
    expect(a.results[4]!.detail).toMatch(/from cache, no transfer/);
    // client-b's recordings equal the source PCM
    const files = (await readdir(join(rec, 'client-b'))).sort();
    expect(files).toEqual(['client-a--chimes-32bit-16k.wav', 'client-a--scale-24bit-48k.wav']);
    for (const [f, src] of [[files[0]!, 'chimes-32bit-16k.wav'], [files[1]!, 'scale-24bit-48k.wav']] as const) {
      expect(pcm(await readFile(join(rec, 'client-b', f))).equals(pcm(await readFile(join(MUSIC, src))))).toBe(true);
    }
    expect(lab.server.catalog.has('uploaded-by-client-a.wav')).toBe(true);
  });

  it('fails at the first failing step, saying why', async () => {
    lab = await startServer();
    const dir = await tempDir();
    const file = join(dir, 's.json');
    await writeFile(file, JSON.stringify({ name: 'x', server: `127.0.0.1:${lab.port}`, cache: join(dir, 'c'), steps: [{ do: 'list' }, { do: 'play', song: 'missing.wav' }, { do: 'quit' }] }));
    const r = await runScenario(await loadScenario(file));
    expect(r.ok).toBe(false);
    expect(r.results.map((s) => s.ok)).toEqual([true, true, false]);
    expect(r.results[2]!.error?.code).toBe('AUDIOLAB_ERR_NO_SUCH_SONG');
  });

  it('rejects an unknown step kind when loading', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ steps: [{ do: 'dance' }] }));
    await expect(loadScenario(join(dir, 'bad.json'))).rejects.toMatchObject({ code: 'AUDIOLAB_ERR_SCENARIO', message: /step 1 has unknown "do": "dance"/ });
  });
});
