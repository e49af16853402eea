/**
 * Checks what the lab's extra listeners (`--scale N`) recorded: each of the N must hold a recording
 * of every stream sent to it, and each recording's samples must equal the song's. A recording
 * appears under its name only when complete, so a missing file is a stream that did not arrive.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseWavHeader } from '../services/common/wav.ts';

/** What client-a sends every listener (scenarios/client-a.json): recording name → the song's file. */
export function expectedListenerRecordings(musicDir: string): Record<string, string> {
  return {
    'client-a--scale-24bit-48k.wav': join(musicDir, 'scale-24bit-48k.wav'),
    'client-a--chimes-32bit-16k.wav': join(musicDir, 'chimes-32bit-16k.wav'),
  };
}

function samples(file: Buffer): Buffer {
  const w = parseWavHeader(file, file.length);
  if (!w) return Buffer.alloc(0);
  return file.subarray(w.dataOffset, w.dataOffset + w.dataLength);
}

/** Returns the problems found (none: every listener's every recording is intact) and a one-line summary. */
export async function checkListenerRecordings(runDir: string, listeners: number, musicDir: string): Promise<{ failures: string[]; summary: string }> {
  const dir = join(runDir, 'recordings', 'listeners');
  const hosts = existsSync(dir) ? (await readdir(dir)).sort() : [];
  const failures: string[] = [];
  if (hosts.length !== listeners) failures.push(`${listeners} listener(s) were started but ${hosts.length} recorded anything (${dir})`);
  const expected = expectedListenerRecordings(musicDir);
  const songs = new Map<string, Buffer>();
  for (const [name, path] of Object.entries(expected)) songs.set(name, samples(await readFile(path)));
  let intact = 0;
  for (const host of hosts) {
    for (const name of Object.keys(expected)) {
      const path = join(dir, host, name);
      if (!existsSync(path)) {
        failures.push(`listener ${host} has no recording ${name}`);
        continue;
      }
      let ok = false;
      try {
        ok = samples(await readFile(path)).equals(songs.get(name)!);
      } catch { /* not a WAV: not intact */ }
      if (ok) intact++;
      else failures.push(`listener ${host}'s recording ${name} differs from the song`);
    }
  }
  const total = listeners * Object.keys(expected).length;
  return { failures, summary: `${listeners} listener(s): ${intact} of ${total} recordings intact` };
}
