#!/usr/bin/env node
/** Writes the shipped songs into music/ (or the folder given). Deterministic: running it again changes nothing. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderWav, SONGS } from './synth.ts';

const dir = process.argv[2] ?? dirname(fileURLToPath(import.meta.url));
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log('Usage: node music/generate.ts [DIR]\n\nWrites the project\'s own songs (deterministic WAV files in several formats) into DIR (default: music/).');
  process.exit(0);
}
await mkdir(dir, { recursive: true });
for (const spec of SONGS) {
  const wav = renderWav(spec);
  await writeFile(join(dir, spec.name), wav);
  const f = spec.format;
  console.log(`${spec.name}  ${f.sampleRate} Hz, ${f.channels} ch, ${f.bitsPerSample}-bit${spec.extensible ? ' (EXTENSIBLE)' : ''}, ${wav.length} bytes`);
}
