/**
 * Playback through the real `speaker` module into ALSA. ALSA's `file` plugin (an .asoundrc in a
 * temporary HOME) records exactly the PCM that reached ALSA, so we compare it with the song's.
 * speaker is loaded only in child processes (the CLI), as it aborts a process when ALSA has no device.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MUSIC, ROOT, startServer, tempDir, type TestLab } from '../helpers.ts';
import { parseWavHeader } from '../../services/common/wav.ts';

const run = promisify(execFile);
let lab: TestLab;
afterEach(async () => { await lab?.close(); });

async function playIn(home: string, song: string, sink: string): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [join(ROOT, 'bin/audiolab.mjs'), 'play', song, '--server', `127.0.0.1:${lab.port}`, '--sink', sink, '--cache', join(home, 'cache')], {
    env: { ...process.env, HOME: home, CI: '1' }, timeout: 60_000,
  });
}

describe('speaker sink', () => {
  it('is installed (the optional native module built on this machine)', () => {
    expect(() => createRequire(import.meta.url).resolve('speaker')).not.toThrow();
  });

  for (const song of ['ode-to-joy.wav', 'frere-jacques-8bit.wav']) {
    it(`hands ALSA exactly the song's PCM: ${song}`, async () => {
      lab = await startServer();
      const home = await tempDir('audiolab-alsa-');
      const raw = join(home, 'alsa-out.raw');
      await writeFile(join(home, '.asoundrc'), `pcm.!default { type file; slave.pcm "null"; file "${raw}"; format "raw" }\n`);
      const { stdout } = await playIn(home, song, 'speaker');
      expect(stdout).toMatch(new RegExp(`played ${song} to speaker`));
      const file = await readFile(join(MUSIC, song));
      const info = parseWavHeader(file, file.length)!;
      const pcm = file.subarray(info.dataOffset, info.dataOffset + info.dataLength);
      const got = await readFile(raw);
      expect(got.length).toBe(pcm.length);
      expect(got.equals(pcm)).toBe(true);
    });
  }

  it('falls back to the null sink (without crashing) when ALSA has no usable device', async () => {
    lab = await startServer();
    const home = await tempDir('audiolab-nodev-');
    await writeFile(join(home, '.asoundrc'), 'pcm.!default { type hw; card 99 }\n');
    const { stdout } = await playIn(home, 'ode-to-joy.wav', 'auto');
    expect(stdout).toMatch(/played ode-to-joy.wav to null/);
  });

  it('explains why when speaker is asked for explicitly and there is no device', async () => {
    lab = await startServer();
    const home = await tempDir('audiolab-nodev-');
    await writeFile(join(home, '.asoundrc'), 'pcm.!default { type hw; card 99 }\n');
    const err = await playIn(home, 'ode-to-joy.wav', 'speaker').then(() => null, (e: { code: number; stderr: string }) => e);
    expect(err?.code).toBe(1);
    expect(err?.stderr).toMatch(/AUDIOLAB_ERR_SINK: Cannot play through speaker: no usable sound device/);
  });
});
